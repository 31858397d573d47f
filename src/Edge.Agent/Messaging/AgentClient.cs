using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeTL.Agent.Messaging;

/// <summary>
/// A remote client of one device, as a fleet backend (or the demo, or <c>edgetl-agent status</c>)
/// uses it: an ordinary MQTT 5 client that sends commands and reads the device's results and
/// metrics (repeats dropped by <c>seq</c>).
/// </summary>
internal sealed class AgentClient : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly string _prefix;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly ConcurrentQueue<(string Kind, JsonObject Message)> _metrics = new();
    private readonly ConcurrentDictionary<long, bool> _seen = new();
    private readonly CancellationTokenSource _stop = new();
    private MqttClientOptions? _options;
    private Task? _keepAlive;
    private int _next;

    private AgentClient(string fleet, string device)
    {
        _prefix = $"edgetl/{fleet}/{device}";
        _client.ApplicationMessageReceivedAsync += e =>
        {
            string topic = e.ApplicationMessage.Topic;
            var json = JsonNode.Parse(Encoding.UTF8.GetString(e.ApplicationMessage.Payload.ToArray())) as JsonObject;
            if (json is null)
                return Task.CompletedTask;
            if (topic.StartsWith($"{_prefix}/result/", StringComparison.Ordinal))
            {
                string id = topic[($"{_prefix}/result/".Length)..];
                if (json["status"]?.GetValue<string>() != "accepted" && _pending.TryRemove(id, out var waiter))
                    waiter.TrySetResult(json);
            }
            else if (topic.StartsWith($"{_prefix}/metrics/", StringComparison.Ordinal) && json["seq"]?.GetValue<long>() is { } seq && _seen.TryAdd(seq, true))
            {
                string kind = topic[($"{_prefix}/metrics/".Length)..];
                _metrics.Enqueue((kind, json));
                MetricReceived?.Invoke(kind, json);
            }
            return Task.CompletedTask;
        };
    }

    /// <summary>Prefix of the command ids this client sends.</summary>
    public string IdPrefix { get; set; } = "cli";

    /// <summary>Raised for every metric received (kind, payload).</summary>
    public event Action<string, JsonObject>? MetricReceived;

    public static Task<AgentClient> ConnectAsync(int port, string fleet, string device, CancellationToken cancellationToken) =>
        ConnectAsync("127.0.0.1", port, fleet, device, cancellationToken);

    public static async Task<AgentClient> ConnectAsync(string host, int port, string fleet, string device, CancellationToken cancellationToken)
    {
        var cloud = new AgentClient(fleet, device);
        // A persistent session: results published while a reconnect is under way wait at the broker.
        cloud._options = new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId($"edgetl-client-{Guid.NewGuid():N}")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithCleanStart(false).WithSessionExpiryInterval(600).Build();
        await cloud.ConnectAsync(cancellationToken).ConfigureAwait(false);
        cloud._keepAlive = Task.Run(() => cloud.KeepAliveAsync(cloud._stop.Token), CancellationToken.None);
        return cloud;
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var result = await _client.ConnectAsync(_options, cancellationToken).ConfigureAwait(false);
        if (!result.IsSessionPresent)
            await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter($"{_prefix}/#", MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pings every few seconds and reconnects when the connection dropped (MQTTnet 5 has no managed client).</summary>
    private async Task KeepAliveAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken).ConfigureAwait(false);
                if (!await _client.TryPingAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (_client.IsConnected)
                        await _client.DisconnectAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                    await ConnectAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (MQTTnet.Exceptions.MqttCommunicationException)
            {
                // The broker is away; try again on the next round.
            }
            catch (InvalidOperationException)
            {
                // MQTTnet refuses a connect while its own connect or disconnect is still pending
                // (a slow broker under load); the next round tries again.
            }
        }
    }

    /// <summary>Sends a command and waits for its final result (jobs answer "accepted" first).</summary>
    public async Task<JsonObject> SendAsync(string name, JsonObject? args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            string id = $"{IdPrefix}-{name}-{Interlocked.Increment(ref _next)}";
            var waiter = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[id] = waiter;
            var envelope = new JsonObject { ["id"] = id, ["name"] = name, ["issuedAt"] = DateTimeOffset.UtcNow.ToString("O"), ["args"] = args?.DeepClone() };
            var message = new MqttApplicationMessageBuilder().WithTopic($"{_prefix}/cmd/{name}").WithPayload(Encoding.UTF8.GetBytes(envelope.ToJsonString()))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
            for (int tries = 0; ; tries++)
            {
                try
                {
                    await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
                    break;
                }
                catch (MQTTnet.Exceptions.MqttCommunicationException) when (tries < 3)
                {
                    await Task.Delay(500, cancellationToken).ConfigureAwait(false);
                    if (!_client.IsConnected)
                        await ConnectAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            var result = await waiter.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            if (result["status"]?.GetValue<string>() != "busy" || attempt > 50)
                return result;
            await Task.Delay(200, cancellationToken).ConfigureAwait(false);   // a busy device: try again shortly
        }
    }

    /// <summary>Metrics of <paramref name="kind"/> received so far, in order.</summary>
    public IReadOnlyList<JsonObject> Metrics(string kind) => [.. _metrics.Where(m => m.Kind == kind).Select(m => m.Message)];

    /// <summary>Waits until <paramref name="probe"/> finds something among the metrics.</summary>
    public async Task<JsonObject> WaitForMetricAsync(string kind, Func<JsonObject, bool> probe, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Metrics(kind).FirstOrDefault(probe) is { } found)
                return found;
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
        throw new TimeoutException($"No '{kind}' metric arrived within {timeout.TotalSeconds:F0} s.");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_keepAlive is not null)
            await _keepAlive.ConfigureAwait(false);
        _stop.Dispose();
        if (_client.IsConnected)
            await _client.DisconnectAsync().ConfigureAwait(false);
        _client.Dispose();
    }
}
