using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Topics;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeTL.Control;

/// <summary>
/// A remote client of one device, as a fleet backend (or the demo, or <c>edgetl-agent status</c>)
/// uses it: an ordinary MQTT 5 client that sends commands and reads the device's results and
/// metrics (repeats dropped by <c>seq</c>). Connected with <c>watch: false</c> it subscribes to
/// nothing up front: <see cref="CallAsync"/> subscribes to one command's result topic before it
/// sends (what <c>edgetl-agent send</c>, <c>status</c> and <c>predict</c> do).
/// </summary>
public sealed class AgentClient : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly string _prefix;
    private readonly DeviceTopics _topics;
    private readonly bool _watch;
    private readonly ConcurrentDictionary<string, ChannelWriter<string>> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly ConcurrentQueue<(string Kind, JsonObject Message)> _metrics = new();
    private readonly ConcurrentDictionary<long, bool> _seen = new();
    private readonly CancellationTokenSource _stop = new();
    private MqttClientOptions? _options;
    private Task? _keepAlive;
    private int _next;

    private AgentClient(string fleet, string device, bool watch)
    {
        _topics = new DeviceTopics(fleet, device);
        _prefix = _topics.DevicePrefix;
        _watch = watch;
        _client.ApplicationMessageReceivedAsync += e =>
        {
            string topic = e.ApplicationMessage.Topic;
            string text = Encoding.UTF8.GetString(e.ApplicationMessage.Payload.ToArray());
            if (topic.StartsWith($"{_prefix}/result/", StringComparison.Ordinal) && _calls.TryGetValue(topic[($"{_prefix}/result/".Length)..], out var call))
            {
                call.TryWrite(text);
                return Task.CompletedTask;
            }
            JsonObject? json;
            try
            {
                json = JsonNode.Parse(text) as JsonObject;
            }
            catch (JsonException)
            {
                return Task.CompletedTask;
            }
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

    /// <summary>
    /// Connects to the broker at <paramref name="host"/>:<paramref name="port"/> as a client of device
    /// <paramref name="fleet"/>/<paramref name="device"/> that watches every topic of the device (results and metrics).
    /// </summary>
    public static Task<AgentClient> ConnectAsync(string host, int port, string fleet, string device, CancellationToken cancellationToken) =>
        ConnectAsync(host, port, fleet, device, watch: true, cancellationToken);

    /// <summary>Connects as a client that only sends commands: it subscribes to each command's result topic in <see cref="CallAsync"/>, and to nothing else.</summary>
    public static Task<AgentClient> ConnectForCommandsAsync(string host, int port, string fleet, string device, CancellationToken cancellationToken) =>
        ConnectAsync(host, port, fleet, device, watch: false, cancellationToken);

    private static async Task<AgentClient> ConnectAsync(string host, int port, string fleet, string device, bool watch, CancellationToken cancellationToken)
    {
        var cloud = new AgentClient(fleet, device, watch);
        // A persistent session: results published while a reconnect is under way wait at the broker.
        cloud._options = new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId($"edgetl-client-{Guid.NewGuid():N}")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithCleanStart(false).WithSessionExpiryInterval(watch ? 600u : 60u).Build();
        await cloud.ConnectAsync(cancellationToken).ConfigureAwait(false);
        cloud._keepAlive = Task.Run(() => cloud.KeepAliveAsync(cloud._stop.Token), CancellationToken.None);
        return cloud;
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var result = await _client.ConnectAsync(_options, cancellationToken).ConfigureAwait(false);
        if (!result.IsSessionPresent && _watch)
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

    /// <summary>
    /// Sends <paramref name="envelope"/> as it is (no retry on <c>busy</c>: that is an answer) and hands
    /// every result on its topic to <paramref name="onResult"/> (the parsed result and the payload as
    /// received) until the final one, which it returns. The result topic is subscribed before the
    /// command is published, so not even an immediate answer is missed. Throws
    /// <see cref="TimeoutException"/> when no final result came within <paramref name="timeout"/>, and
    /// <see cref="ProtocolException"/> when the device answered something that is not a result.
    /// </summary>
    public async Task<CommandResult> CallAsync(CommandEnvelope envelope, Func<CommandResult, string, Task> onResult, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(onResult);
        string topic = _topics.Result(envelope.Id);
        var results = Channel.CreateUnbounded<string>();
        if (!_calls.TryAdd(envelope.Id, results.Writer))
            throw new InvalidOperationException($"Command {envelope.Id} is already being sent by this client.");
        try
        {
            await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
            byte[] payload = JsonSerializer.SerializeToUtf8Bytes(envelope, ProtocolJson.Default.CommandEnvelope);
            await _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(_topics.Command(envelope.Name)).WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                while (true)
                {
                    string raw = await results.Reader.ReadAsync(deadline.Token).ConfigureAwait(false);
                    CommandResult result;
                    try
                    {
                        result = JsonSerializer.Deserialize(raw, ProtocolJson.Default.CommandResult)
                            ?? throw new ProtocolException($"The answer on {topic} is not a result: {raw}");
                    }
                    catch (JsonException e)
                    {
                        throw new ProtocolException($"The answer on {topic} is not a protocol result ({e.Message}): {raw}", e);
                    }
                    await onResult(result, raw).ConfigureAwait(false);
                    if (result.IsFinal)
                        return result;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"No final result on {topic} within {timeout.TotalSeconds:0.#} s.");
            }
        }
        finally
        {
            _calls.TryRemove(envelope.Id, out _);
            if (_client.IsConnected)
            {
                try
                {
                    await _client.UnsubscribeAsync(topic, CancellationToken.None).ConfigureAwait(false);
                }
                catch (MQTTnet.Exceptions.MqttCommunicationException)
                {
                    // Gone with the connection.
                }
            }
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
