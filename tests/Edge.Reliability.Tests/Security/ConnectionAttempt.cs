using System.Collections.Concurrent;
using EdgeTL.Agent.Messaging;

namespace EdgeTL.Reliability.Tests.Security;

/// <summary>
/// What happened when the agent's own <see cref="MqttConnection"/> tried to connect with one set of
/// settings until it had failed <see cref="Tries"/> times (or connected): counted on both sides.
/// </summary>
/// <param name="ClientConnects">Connects the agent counted as successful (<see cref="MqttConnection.ConnectCount"/>).</param>
/// <param name="BrokerAccepted">CONNECTs mosquitto accepted from the device's client id, read from its log.</param>
/// <param name="BrokerAttempts">TCP connections that reached mosquitto meanwhile.</param>
/// <param name="ClientErrors">The agent's error messages (<see cref="MqttConnection.ConnectFailed"/>).</param>
/// <param name="BrokerLog">mosquitto's log lines meanwhile.</param>
public sealed record ConnectionAttempt(int ClientConnects, int BrokerAccepted, int BrokerAttempts, IReadOnlyList<string> ClientErrors, IReadOnlyList<string> BrokerLog)
{
    /// <summary>Failed connects to wait for before the attempt counts as refused.</summary>
    public const int Tries = 3;

    /// <summary>Connects as <paramref name="device"/> with <paramref name="options"/> until <see cref="Tries"/> failures, a connect, or 10 s.</summary>
    public static async Task<ConnectionAttempt> RunAsync(SecureBroker broker, string device, BrokerOptions options)
    {
        ArgumentNullException.ThrowIfNull(broker);
        var mark = broker.Broker.Log.Count;
        var errors = new ConcurrentQueue<string>();
        int connects;
        await using (var connection = new MqttConnection(options, new DeviceTopics(SecureBroker.Fleet, device), []))
        {
            connection.ConnectFailed += errors.Enqueue;
            connection.Start();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (errors.Count < Tries && connection.ConnectCount == 0 && DateTime.UtcNow < deadline)
                await Task.Delay(20);
            connects = connection.ConnectCount;
        }
        await Task.Delay(100);   // let mosquitto write its last lines
        var log = broker.Broker.LogSince(mark);
        return new ConnectionAttempt(connects, SecureMosquitto.Accepted(log, SecureBroker.ClientId(device)), SecureMosquitto.Attempts(log), [.. errors], log);
    }

    /// <summary>Both sides' messages, for assertion failures.</summary>
    public string Describe() =>
        $"client connects {ClientConnects}, broker accepted {BrokerAccepted}, TCP attempts {BrokerAttempts}; client errors: [{string.Join(" | ", ClientErrors.Distinct())}]; broker log: [{string.Join(" | ", BrokerLog)}]";
}
