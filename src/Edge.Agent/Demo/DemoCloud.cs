using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeTL.Agent.Demo;

/// <summary>
/// The demo's cloud side: an ordinary MQTT 5 client that sends commands to the device and reads
/// its results and metrics, exactly as a fleet backend would. Every number the demo prints comes
/// from a message received here.
/// </summary>
internal sealed class DemoCloud : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly string _prefix;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly ConcurrentQueue<(string Kind, JsonObject Message)> _metrics = new();
    private readonly ConcurrentDictionary<long, bool> _seen = new();
    private int _next;

    private DemoCloud(string fleet, string device)
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

    /// <summary>Raised for every metric received (kind, payload).</summary>
    public event Action<string, JsonObject>? MetricReceived;

    public static async Task<DemoCloud> ConnectAsync(int port, string fleet, string device, CancellationToken cancellationToken)
    {
        var cloud = new DemoCloud(fleet, device);
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId($"edgetl-demo-cloud-{Guid.NewGuid():N}")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build();
        await cloud._client.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        await cloud._client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter($"{cloud._prefix}/#", MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
        return cloud;
    }

    /// <summary>Sends a command and waits for its final result (jobs answer "accepted" first).</summary>
    public async Task<JsonObject> SendAsync(string name, JsonObject? args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            string id = $"demo-{name}-{Interlocked.Increment(ref _next)}";
            var waiter = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[id] = waiter;
            var envelope = new JsonObject { ["id"] = id, ["name"] = name, ["issuedAt"] = DateTimeOffset.UtcNow.ToString("O"), ["args"] = args?.DeepClone() };
            await _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"{_prefix}/cmd/{name}").WithPayload(Encoding.UTF8.GetBytes(envelope.ToJsonString()))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
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
        if (_client.IsConnected)
            await _client.DisconnectAsync().ConfigureAwait(false);
        _client.Dispose();
    }
}
