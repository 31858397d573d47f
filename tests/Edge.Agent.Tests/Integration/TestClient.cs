using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>
/// An independent MQTT 5 client, as the cloud would be: it sends commands and records every
/// message under the device's topics (persistent session, QoS 1) for the test to check.
/// </summary>
public sealed class TestClient : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly MqttClientOptions _options;
    private readonly string _filter;
    private readonly SemaphoreSlim _connecting = new(1);
    private readonly CancellationTokenSource _stop = new();
    private Task? _keepAlive;

    private TestClient(MqttClientOptions options, string filter)
    {
        _options = options;
        _filter = filter;
        _client.ApplicationMessageReceivedAsync += e =>
        {
            var seq = e.ApplicationMessage.UserProperties?.FirstOrDefault(p => p.Name == "edgetl-seq")?.ValueBuffer is { } buffer ? Encoding.UTF8.GetString(buffer.Span) : null;
            var message = new Message(e.ApplicationMessage.Topic, Encoding.UTF8.GetString(e.ApplicationMessage.Payload.ToArray()), e.ApplicationMessage.Retain, seq);
            Received.Enqueue(message);
            try
            {
                foreach (var problem in ProtocolValidator.Problems(message.Topic, message.Payload))
                    SchemaViolations.Enqueue(problem);
            }
            catch (JsonException ex)
            {
                SchemaViolations.Enqueue($"{message.Topic}: not JSON ({ex.Message})");
            }
            return Task.CompletedTask;
        };
    }

    public sealed record Message(string Topic, string Payload, bool Retain, string? Sequence)
    {
        public JsonObject Json => JsonNode.Parse(Payload)!.AsObject();
    }

    public ConcurrentQueue<Message> Received { get; } = new();

    /// <summary>Messages that broke the committed JSON Schemas (docs/protocol/); checked when the client is disposed.</summary>
    public ConcurrentQueue<string> SchemaViolations { get; } = new();

    public static async Task<TestClient> ConnectAsync(int port, string fleet, string device, string clientId = "cloud")
    {
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId($"{clientId}-{Guid.NewGuid():N}")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithCleanStart(false).WithSessionExpiryInterval(3600).Build();
        var client = new TestClient(options, $"edgetl/{fleet}/{device}/#");
        await client.ReconnectAsync();
        client._keepAlive = Task.Run(client.KeepAliveAsync);
        return client;
    }

    /// <summary>
    /// MQTTnet 5 sends no keep-alive pings by itself: an observer that only listens would be dropped
    /// by the broker after 1.5 × keep-alive. Ping every 3 s, and reconnect when dropped.
    /// </summary>
    private async Task KeepAliveAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(3000, _stop.Token);
                if (!await _client.TryPingAsync(_stop.Token))
                    await ReconnectAsync();
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or TimeoutException or InvalidOperationException)
            {
                // The broker is away (a test stopped it); try again next round.
            }
        }
    }

    /// <summary>(Re)connects with the same persistent session and subscribes when the broker has none.</summary>
    public async Task ReconnectAsync()
    {
        await _connecting.WaitAsync();
        try
        {
            await ConnectWithRetriesAsync();
        }
        finally
        {
            _connecting.Release();
        }
    }

    private async Task ConnectWithRetriesAsync()
    {
        if (_client.IsConnected)
            return;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                var result = await _client.ConnectAsync(_options);
                if (!result.IsSessionPresent)
                    await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(_filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
                return;
            }
            catch (MQTTnet.Exceptions.MqttCommunicationException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public bool IsConnected => _client.IsConnected;

    public Task PublishAsync(string topic, byte[] payload) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    /// <summary>Sends command <paramref name="name"/> with <paramref name="args"/> to <paramref name="device"/>; returns its id.</summary>
    public async Task<string> SendAsync(string fleet, string device, string name, JsonObject? args = null, string? id = null, DateTimeOffset? expiresAt = null)
    {
        id ??= $"{name}-{Guid.NewGuid():N}";
        var envelope = new JsonObject { ["id"] = id, ["name"] = name, ["issuedAt"] = DateTimeOffset.UtcNow.ToString("O"), ["args"] = args?.DeepClone() };
        if (expiresAt is { } e)
            envelope["expiresAt"] = e.ToString("O");
        await PublishAsync($"edgetl/{fleet}/{device}/cmd/{name}", Encoding.UTF8.GetBytes(envelope.ToJsonString()));
        return id;
    }

    /// <summary>
    /// Results published for command <paramref name="id"/>, in arrival order, repeats dropped by
    /// <c>edgetl-seq</c> as a consumer should (QoS 1 is at-least-once: a SIGKILL can make the
    /// messages the agent had published and not yet removed from its outbox arrive again).
    /// </summary>
    public IReadOnlyList<JsonObject> Results(string id)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return [.. Received.Where(m => m.Topic.EndsWith($"/result/{id}", StringComparison.Ordinal) && (m.Sequence is null || seen.Add(m.Sequence))).Select(m => m.Json)];
    }

    /// <summary>Waits for the final (not "accepted") result of command <paramref name="id"/>.</summary>
    public async Task<JsonObject> FinalResultAsync(string id, TimeSpan timeout) =>
        await WaitAsync(() => Results(id).FirstOrDefault(r => r["status"]!.GetValue<string>() != "accepted"), timeout, $"a final result for {id}");

    /// <summary>Metrics of <paramref name="kind"/> in arrival order (payload JSON).</summary>
    public IReadOnlyList<JsonObject> Metrics(string kind) =>
        [.. Received.Where(m => m.Topic.EndsWith($"/metrics/{kind}", StringComparison.Ordinal)).Select(m => m.Json)];

    /// <summary>Asserts a result's status, showing the whole result when it differs.</summary>
    public static JsonObject AssertStatus(JsonObject result, string status)
    {
        Assert.True(result["status"]?.GetValue<string>() == status, $"expected {status}: {result.ToJsonString()}");
        return result;
    }

    public static async Task<T> WaitAsync<T>(Func<T?> probe, TimeSpan timeout, string what) where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (probe() is { } value)
                return value;
            await Task.Delay(50);
        }
        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:F0} s waiting for {what}.");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_keepAlive is not null)
            await _keepAlive;
        _stop.Dispose();
        if (_client.IsConnected)
            await _client.DisconnectAsync();
        _client.Dispose();
        // Every payload the agent published in this test must fit the protocol's schemas.
        Assert.True(SchemaViolations.IsEmpty, "Payloads that break docs/protocol/*.schema.json:\n" + string.Join("\n", SchemaViolations.Take(5)));

    }
}
