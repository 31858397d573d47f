using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;
using EdgeTL.Protocol.Topics;

namespace EdgeTL.Agent.Messaging;

/// <summary>
/// The agent's MQTT 5 connection: a persistent session (clean start off, session expiry), a
/// retained <c>state</c> of "online" with a retained last will of "offline", TLS with a pinned CA
/// and client certificate, and a supervising loop that connects, pings and reconnects with
/// exponential backoff (never from the Disconnected event, as MQTTnet advises). Subscriptions are
/// made again whenever the broker has no session for us. Received messages go to <see cref="Incoming"/>.
/// </summary>
public sealed class MqttConnection : IAsyncDisposable
{
    private int _disposed;
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _options;
    private readonly BrokerOptions _broker;
    private readonly DeviceTopics _topics;
    private readonly IReadOnlyList<string> _subscriptions;
    private readonly ILogger _logger;
    private readonly Channel<IncomingMessage> _incoming = Channel.CreateBounded<IncomingMessage>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _connected = new(0);
    private Task? _supervisor;

    /// <summary>Creates the connection (not yet connected: call <see cref="Start"/>).</summary>
    public MqttConnection(BrokerOptions broker, DeviceTopics topics, IReadOnlyList<string> subscriptions, ILogger<MqttConnection>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentNullException.ThrowIfNull(topics);
        var problems = broker.Problems().ToList();
        if (problems.Count > 0)
            throw new AgentException(AgentErrorCode.InvalidConfiguration, string.Join(" ", problems));
        _broker = broker;
        _topics = topics;
        _subscriptions = subscriptions;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _client = new MqttClientFactory().CreateMqttClient();
        _options = BuildOptions(broker, topics);
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
    }

    /// <summary>Messages received on the subscriptions.</summary>
    public ChannelReader<IncomingMessage> Incoming => _incoming.Reader;

    /// <summary>True while connected.</summary>
    public bool IsConnected => _client.IsConnected;

    /// <summary>Successful connects so far (the first one included).</summary>
    public int ConnectCount { get; private set; }

    /// <summary>
    /// How many QoS 1 publishes the broker takes unacknowledged at once: the Receive Maximum of its
    /// last CONNACK (65,535 when it sent none, as MQTT 5 specifies).
    /// </summary>
    public int ReceiveMaximum { get; private set; } = ushort.MaxValue;

    /// <summary>When the supervisor last saw the connection alive (for the watchdog).</summary>
    public DateTimeOffset LastAlive { get; private set; } = DateTimeOffset.UtcNow;

    /// <summary>The retained state published on every connect (default <c>{"state":"online"}</c>).</summary>
    public Func<byte[]>? OnlineState { get; set; }

    /// <summary>Raised after each successful (re)connect.</summary>
    public event Action? Connected;

    /// <summary>
    /// Raised with the error's message each time the supervisor fails to connect (or loses a
    /// connection it had), before it waits to retry: a refused TLS handshake, bad credentials, an
    /// unreachable broker. Lets callers and tests see a refusal as it happens instead of by timeout.
    /// Handlers run on the supervisor's loop: they must return quickly and must not throw.
    /// </summary>
    public event Action<string>? ConnectFailed;

    /// <summary>Starts the supervising connect/ping loop.</summary>
    public void Start() => _supervisor ??= Task.Run(() => SuperviseAsync(_stop.Token));

    /// <summary>Waits until connected (or throws on cancellation).</summary>
    public async Task WaitConnectedAsync(CancellationToken cancellationToken = default)
    {
        while (!IsConnected)
            await _connected.WaitAsync(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes at QoS 1 and returns true once the broker's PUBACK arrived with success; false
    /// when not connected or the broker refused. <paramref name="sequence"/> travels as the
    /// <c>edgetl-seq</c> user property, the receivers' dedupe key.
    /// </summary>
    public async Task<bool> PublishAsync(string topic, byte[] payload, bool retain, long? sequence = null, CancellationToken cancellationToken = default)
    {
        if (!_client.IsConnected)
            return false;
        var builder = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag(retain).WithContentType("application/json");
        if (sequence is { } seq)
            builder = builder.WithUserProperty("edgetl-seq", new ReadOnlyMemory<byte>(Encoding.UTF8.GetBytes(seq.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        try
        {
            var result = await _client.PublishAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
            return result.IsSuccess;
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            _logger.PublishFailed(e, topic);
            return false;
        }
    }

    private async Task SuperviseAsync(CancellationToken cancellationToken)
    {
        var delay = _broker.ReconnectDelay;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (!_client.IsConnected || !await _client.TryPingAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (_client.IsConnected)
                        await _client.DisconnectAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                    var result = await _client.ConnectAsync(_options, cancellationToken).ConfigureAwait(false);
                    if (result.ResultCode != MqttClientConnectResultCode.Success)
                        throw new AgentException(AgentErrorCode.InvalidConfiguration, $"The broker refused the connection: {result.ResultCode} {result.ReasonString}");
                    ReceiveMaximum = result.ReceiveMaximum is > 0 and { } receive ? receive : ushort.MaxValue;
                    if (!result.IsSessionPresent)
                    {
                        var subscribe = new MqttClientSubscribeOptionsBuilder();
                        foreach (var filter in _subscriptions)
                            subscribe = subscribe.WithTopicFilter(f => f.WithTopic(filter).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce));
                        if (_subscriptions.Count > 0)
                            await _client.SubscribeAsync(subscribe.Build(), cancellationToken).ConfigureAwait(false);
                    }
                    var online = OnlineState?.Invoke() ?? Encoding.UTF8.GetBytes("{\"state\":\"online\"}");
                    await PublishAsync(_topics.State, online, retain: true, cancellationToken: cancellationToken).ConfigureAwait(false);
                    ConnectCount++;
                    _logger.BrokerConnected(_broker.Host, _broker.Port, result.IsSessionPresent);
                    _connected.Release();
                    Connected?.Invoke();
                    delay = _broker.ReconnectDelay;
                }
                LastAlive = DateTimeOffset.UtcNow;
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, _broker.KeepAlive.TotalMilliseconds / 3)), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.BrokerUnreachable(_broker.Host, _broker.Port, e.Message, delay.TotalMilliseconds);
                ConnectFailed?.Invoke(e.Message);
                LastAlive = DateTimeOffset.UtcNow;   // the supervisor itself is alive; a dead broker is not a hung agent
                try
                {
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _broker.MaxReconnectDelay.Ticks));
            }
        }
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        var message = new IncomingMessage(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray());
        try
        {
            await _incoming.Writer.WriteAsync(message, _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static MqttClientOptions BuildOptions(BrokerOptions broker, DeviceTopics topics)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(broker.Host, broker.Port)
            .WithClientId($"edgetl-{topics.Fleet}-{topics.Device}")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)broker.SessionExpiry.TotalSeconds)
            .WithKeepAlivePeriod(broker.KeepAlive)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithWillTopic(topics.State)
            .WithWillPayload(Encoding.UTF8.GetBytes("{\"state\":\"offline\"}"))
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (broker.Username is not null)
            builder = builder.WithCredentials(broker.Username, broker.Password);
        if (broker.UseTls)
            builder = builder.WithTlsOptions(tls => ConfigureTls(tls, broker));
        return builder.Build();
    }

    private static void ConfigureTls(MqttClientTlsOptionsBuilder tls, BrokerOptions broker)
    {
        var ca = LoadCa(broker.CaFile!);
        tls.UseTls(true).WithTargetHost(broker.Host).WithCertificateValidationHandler(args => TlsPinning.ChainsToPinnedCa(args.Certificate, args.SslPolicyErrors, ca, broker.Host));
        if (broker.ClientCertificateFile is not null)
        {
            // Exported and re-imported so the private key is usable by SslStream on Linux.
            using var pem = X509Certificate2.CreateFromPemFile(broker.ClientCertificateFile, broker.ClientKeyFile);
            var client = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            tls.WithClientCertificates([client]);
        }
    }

    /// <summary>
    /// The pinned CA: the first certificate of a PEM file. (Not <c>CreateFromPemFile(path)</c>, which
    /// also wants the CA's private key in that file and so refused every ordinary CA file.)
    /// </summary>
    private static X509Certificate2 LoadCa(string path)
    {
        try
        {
            return X509Certificate2.CreateFromPem(File.ReadAllText(path));
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new AgentException(AgentErrorCode.InvalidConfiguration, $"Broker:CaFile '{path}' is not a readable PEM certificate: {e.Message}", e);
        }
    }

    /// <summary>Stops the supervisor and disconnects cleanly (the will is not sent; "offline" is published first).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_supervisor is not null)
            await _supervisor.ConfigureAwait(false);
        if (_client.IsConnected)
        {
            try
            {
                await PublishAsync(_topics.State, Encoding.UTF8.GetBytes("{\"state\":\"offline\"}"), retain: true).ConfigureAwait(false);
                await _client.DisconnectAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
            {
            }
        }
        _client.Dispose();
        _stop.Dispose();
        _connected.Dispose();
        _incoming.Writer.TryComplete();
    }
}
