using System.Buffers;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeTL.Cloud.Fleet;

/// <summary>
/// Consumes a fleet's metrics through an MQTT 5 shared subscription
/// (<c>$share/{group}/edgetl/{fleet}/+/metrics/#</c>), so several cloud instances in one group split
/// the traffic: the broker hands each message to one member. Messages are QoS 1 and acknowledged
/// after the handler returns, so a consumer that dies mid-message gets it redelivered (to a member of
/// the group) — handlers must tolerate a duplicate after a crash (the agent's <c>seq</c> identifies it).
/// A supervising loop pings the broker and reconnects (and re-subscribes); the MQTTnet in-process
/// broker does not implement shared subscriptions — use mosquitto, EMQX, HiveMQ or VerneMQ.
/// </summary>
public sealed class FleetMetricsConsumer : IAsyncDisposable
{
    private readonly FleetMetricsConsumerOptions _options;
    private readonly Func<FleetMetric, CancellationToken, Task> _handler;
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _clientOptions;
    private readonly CancellationTokenSource _stop = new();
    private Task? _supervisor;
    private long _handled;

    /// <summary>Creates a consumer that passes each metric to <paramref name="handler"/>.</summary>
    public FleetMetricsConsumer(FleetMetricsConsumerOptions options, Func<FleetMetric, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        var problems = options.Problems();
        if (problems.Count > 0)
            throw new ArgumentException("Invalid consumer options: " + string.Join(" ", problems), nameof(options));
        _options = options;
        _handler = handler;
        _clientOptions = new MqttClientOptionsBuilder()
            .WithTcpServer(options.Host, options.Port)
            .WithClientId($"{options.ClientIdPrefix}-{Guid.NewGuid():N}")
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(true)
            .Build();
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
    }

    /// <summary>The subscription filter.</summary>
    public string Filter => $"$share/{_options.ShareGroup}/edgetl/{_options.Fleet}/+/metrics/#";

    /// <summary>Metrics handed to the handler so far.</summary>
    public long Handled => Interlocked.Read(ref _handled);

    /// <summary>True while connected.</summary>
    public bool IsConnected => _client.IsConnected;

    /// <summary>Connects, subscribes, and starts the supervising reconnect loop.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_supervisor is not null)
            throw new InvalidOperationException("The consumer is already started.");
        await ConnectAsync(cancellationToken).ConfigureAwait(false);
        _supervisor = SuperviseAsync(_stop.Token);
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await _client.ConnectAsync(_clientOptions, cancellationToken).ConfigureAwait(false);
        var result = await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(Filter, MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
        var code = result.Items.First().ResultCode;
        if (code > MqttClientSubscribeResultCode.GrantedQoS2)
            throw new InvalidOperationException($"The broker refused the shared subscription {Filter}: {code}.");
    }

    private async Task SuperviseAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.SupervisionInterval, cancellationToken).ConfigureAwait(false);
                if (!await _client.TryPingAsync(cancellationToken).ConfigureAwait(false))
                    await ConnectAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException or OperationCanceledException)
            {
                // Broker still away: try again at the next tick.
            }
        }
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        string topic = e.ApplicationMessage.Topic;
        var levels = topic.Split('/', 5);
        if (levels.Length != 5 || levels[0] != "edgetl" || levels[1] != _options.Fleet || levels[3] != "metrics")
            return;
        var metric = new FleetMetric(levels[2], levels[4], topic, e.ApplicationMessage.Payload.ToArray());
        await _handler(metric, _stop.Token).ConfigureAwait(false);
        Interlocked.Increment(ref _handled);
    }

    /// <summary>Stops the supervisor and disconnects.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_supervisor is not null)
            await _supervisor.ConfigureAwait(false);
        if (_client.IsConnected)
            await _client.DisconnectAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
        _client.Dispose();
        _stop.Dispose();
    }
}
