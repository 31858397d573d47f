using EdgeTL.Agent.Messaging;

namespace EdgeTL.Reliability.Tests.Security;

/// <summary>Valid identities connected through the agent's own <see cref="MqttConnection"/>, and bounded waits on what they receive.</summary>
public static class SecureConnections
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Connects <paramref name="identity"/> (a device, or the cloud) with its valid settings, subscribed to <paramref name="subscriptions"/>.</summary>
    public static async Task<MqttConnection> ConnectAsync(SecureBroker broker, string identity, IReadOnlyList<string> subscriptions)
    {
        ArgumentNullException.ThrowIfNull(broker);
        var connection = new MqttConnection(broker.Options(identity), new DeviceTopics(SecureBroker.Fleet, identity), subscriptions);
        var errors = new List<string>();
        connection.ConnectFailed += error => { lock (errors) errors.Add(error); };
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Connected += () => connected.TrySetResult();
        connection.Start();
        if (await Task.WhenAny(connected.Task, Task.Delay(Timeout)) != connected.Task)
        {
            await connection.DisposeAsync();
            lock (errors)
                throw new TimeoutException($"{identity} did not connect within {Timeout.TotalSeconds:F0} s: {string.Join(" | ", errors.Distinct())}");
        }
        return connection;
    }

    /// <summary>
    /// Reads <paramref name="connection"/> until a message on <paramref name="topic"/> arrives (or 10 s
    /// pass) and returns it; every message read, that one included, is also added to <paramref name="seen"/>.
    /// </summary>
    public static async Task<IncomingMessage> ReceiveAsync(MqttConnection connection, string topic, ICollection<IncomingMessage>? seen = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            while (true)
            {
                var message = await connection.Incoming.ReadAsync(timeout.Token);
                seen?.Add(message);
                if (message.Topic == topic)
                    return message;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No message on {topic} arrived within {Timeout.TotalSeconds:F0} s.");
        }
    }

    /// <summary>Adds every message already waiting on <paramref name="connection"/> to <paramref name="seen"/>.</summary>
    public static void Drain(MqttConnection connection, ICollection<IncomingMessage> seen)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(seen);
        while (connection.Incoming.TryRead(out var message))
            seen.Add(message);
    }
}
