using System.Globalization;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Topics;

namespace EdgeTL.Control;

/// <summary>
/// One command to a running agent over MQTT, as the device verbs (<c>send</c>, <c>status</c>,
/// <c>predict</c>) make it: check the broker address and topic names, connect, subscribe to the
/// command's result topic, send, hand over each result, and turn the outcome into an exit code
/// (<see cref="SendExitCodes"/>).
/// </summary>
public static class RemoteCall
{
    /// <summary>How long connecting to the broker may take at most.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Reads <c>host:port</c> (the host may be a bracketed IPv6 address).</summary>
    public static bool TryParseBroker(string broker, out string host, out int port)
    {
        host = "";
        port = 0;
        broker ??= "";
        int colon = broker.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(broker.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            return false;
        host = broker[..colon].Trim('[', ']');
        return host.Length > 0;
    }

    /// <summary>
    /// Sends <paramref name="envelope"/> to <paramref name="fleet"/>/<paramref name="device"/> through
    /// <paramref name="broker"/> and returns the exit code of its final status; <paramref name="onResult"/>
    /// sees every result (the parsed record and the payload as received), <c>accepted</c> included.
    /// Problems are one <c>error:</c> line on <paramref name="error"/>.
    /// </summary>
    public static async Task<int> RunAsync(string broker, string fleet, string device, CommandEnvelope envelope, TimeSpan timeout,
        Func<CommandResult, string, Task> onResult, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(error);
        if (!TryParseBroker(broker, out string host, out int port))
        {
            await error.WriteLineAsync($"error: --broker must be host:port, not '{broker}'.").ConfigureAwait(false);
            return SendExitCodes.BadArguments;
        }
        if (!DeviceTopics.IsLevel(fleet) || !DeviceTopics.IsLevel(device) || device == "group")
        {
            await error.WriteLineAsync($"error: --fleet and --device must each be one MQTT topic level (1–128 characters without / + # $), and the device cannot be 'group'; got '{fleet}' and '{device}'.").ConfigureAwait(false);
            return SendExitCodes.BadArguments;
        }
        AgentClient client;
        using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connecting.CancelAfter(ConnectTimeout);
            try
            {
                client = await AgentClient.ConnectForCommandsAsync(host, port, fleet, device, connecting.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                await error.WriteLineAsync($"error: the broker {broker} cannot be reached: {(e is OperationCanceledException ? $"no connection within {ConnectTimeout.TotalSeconds:0} s" : e.Message)}").ConfigureAwait(false);
                return SendExitCodes.BrokerUnreachable;
            }
        }
        await using (client.ConfigureAwait(false))
        {
            bool accepted = false;
            try
            {
                var final = await client.CallAsync(envelope, async (result, raw) =>
                {
                    accepted |= result.Status == CommandStatus.Accepted;
                    await onResult(result, raw).ConfigureAwait(false);
                }, timeout, cancellationToken).ConfigureAwait(false);
                return SendExitCodes.Of(final.Status);
            }
            catch (TimeoutException)
            {
                string topic = new DeviceTopics(fleet, device).Result(envelope.Id);
                await error.WriteLineAsync(accepted
                    ? $"error: the {envelope.Name} job {envelope.Id} was accepted but did not finish within {timeout.TotalSeconds:0.#} s; its final result will be published on {topic}."
                    : $"error: device {fleet}/{device} did not answer {envelope.Id} within {timeout.TotalSeconds:0.#} s (is the agent running and connected to {broker}?).").ConfigureAwait(false);
                return SendExitCodes.Timeout;
            }
            catch (ProtocolException e)
            {
                await error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return SendExitCodes.Failed;
            }
            catch (MQTTnet.Exceptions.MqttCommunicationException e)
            {
                await error.WriteLineAsync($"error: the connection to the broker {broker} was lost: {e.Message}").ConfigureAwait(false);
                return SendExitCodes.BrokerUnreachable;
            }
        }
    }

    /// <summary>A new command id: <c>cli-{name}-{UTC time}-{random}</c>.</summary>
    public static string NewId(string name) =>
        $"cli-{name}-{DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..6]}";
}
