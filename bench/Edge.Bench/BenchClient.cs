using System.Buffers;
using System.Diagnostics;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeTL.Bench;

/// <summary>
/// A plain MQTTnet 5 client, as the cloud side would be: it subscribes at QoS 1 to one filter,
/// counts what arrives (and when the last message arrived), hands each message to an optional
/// callback, and publishes at QoS 1.
/// </summary>
internal sealed class BenchClient : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private long _received;
    private long _lastArrival;

    private BenchClient(Action<string, ReadOnlyMemory<byte>, long>? onMessage)
    {
        _client.ApplicationMessageReceivedAsync += e =>
        {
            long now = Stopwatch.GetTimestamp();
            onMessage?.Invoke(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.IsSingleSegment ? e.ApplicationMessage.Payload.First : e.ApplicationMessage.Payload.ToArray(), now);
            Volatile.Write(ref _lastArrival, now);
            Interlocked.Increment(ref _received);
            return Task.CompletedTask;
        };
    }

    /// <summary>Messages received so far.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>The client underneath (for raw publishing).</summary>
    public IMqttClient Client => _client;

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> and subscribes to <paramref name="filter"/> (none when null).</summary>
    public static async Task<BenchClient> ConnectAsync(int port, string? filter, Action<string, ReadOnlyMemory<byte>, long>? onMessage = null)
    {
        var client = new BenchClient(onMessage);
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId($"bench-{Guid.NewGuid():N}")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithCleanStart(true)
            .WithKeepAlivePeriod(TimeSpan.FromMinutes(10)).WithTimeout(TimeSpan.FromSeconds(30)).Build();
        await client._client.ConnectAsync(options).ConfigureAwait(false);
        if (filter is not null)
            await client._client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build()).ConfigureAwait(false);
        return client;
    }

    /// <summary>Publishes at QoS 1 and waits for the PUBACK.</summary>
    public Task PublishAsync(string topic, byte[] payload) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    /// <summary>
    /// Waits until <paramref name="count"/> messages have arrived or <paramref name="timeout"/>
    /// passes; returns the Stopwatch timestamp of the last arrival and whether all came.
    /// </summary>
    public async Task<(long LastArrival, bool All)> WaitForAsync(long count, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        long seen = Received;
        while (Received < count)
        {
            await Task.Delay(2).ConfigureAwait(false);
            long now = Received;
            if (now != seen)
            {
                seen = now;   // still arriving: the timeout counts from the last progress
                deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            }
            else if (Stopwatch.GetTimestamp() > deadline)
            {
                return (Volatile.Read(ref _lastArrival), false);
            }
        }
        return (Volatile.Read(ref _lastArrival), true);
    }

    /// <summary>Disconnects.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
            await _client.DisconnectAsync().ConfigureAwait(false);
        _client.Dispose();
    }
}
