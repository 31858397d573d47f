using System.Threading.Channels;
using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Jobs;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Serving;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Topics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeTL.Agent;

/// <summary>
/// The device agent: MQTT commands in, results and metrics out through the persisted outbox,
/// models deployed and served, samples ingested, heads trained (cold start, fine-tune), drift
/// watched and adapted to. Usable without a host (tests, the demo); <see cref="Hosting.AgentWorker"/>
/// runs it as a systemd service.
/// </summary>
public sealed partial class EdgeAgent : IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CommandDecoder _decoder;
    private readonly Channel<CommandEnvelope> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private RuntimeSettings _settings;
    private bool _started;

    /// <summary>Creates the agent: validates <paramref name="options"/>, opens the store and the model store. Call <see cref="StartAsync"/> next.</summary>
    public EdgeAgent(AgentOptions options, ILoggerFactory? loggers = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Problems();
        if (problems.Count > 0)
            throw new AgentException(AgentErrorCode.InvalidConfiguration, "Invalid agent settings: " + string.Join(" ", problems));
        _options = options;
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<EdgeAgent>();
        _time = time ?? TimeProvider.System;
        Topics = new DeviceTopics(options.Fleet, options.Device);
        Directory.CreateDirectory(options.DataDirectory);
        Store = new AgentStore(Path.Combine(options.DataDirectory, "agent.db"), _time);
        Store.Outbox.Capacity = options.OutboxCapacity;
        Metrics = new MetricsPublisher(Store.Outbox, Topics, _time);
        _decoder = new CommandDecoder(Topics, options.MaxCommandBytes, _time, options.MaxClockSkew, options.MaxCommandAge);
        _queue = Channel.CreateBounded<CommandEnvelope>(new BoundedChannelOptions(options.CommandQueueCapacity) { FullMode = BoundedChannelFullMode.Wait });
        _settings = LoadSettings();
        Connection = new MqttConnection(options.Broker, Topics, [Topics.CommandFilter, Topics.GroupDeploy(options.Group)], _loggers.CreateLogger<MqttConnection>());
        Publisher = new OutboxPublisher(Store.Outbox, Connection, _loggers.CreateLogger<OutboxPublisher>(), options.OutboxWindow);
        Connection.OnlineState = StatePayload;
        TrainingGate = SysfsResourceGate;
        InitializeDeployment();
    }

    /// <summary>This device's topics.</summary>
    public DeviceTopics Topics { get; }

    /// <summary>The LiteDB store.</summary>
    public AgentStore Store { get; }

    /// <summary>Metrics and events out.</summary>
    public MetricsPublisher Metrics { get; }

    /// <summary>The broker connection.</summary>
    public MqttConnection Connection { get; }

    /// <summary>The outbox drain.</summary>
    public OutboxPublisher Publisher { get; }

    /// <summary>What is served.</summary>
    public ModelServer Server { get; } = new();

    /// <summary>The one-at-a-time job runner.</summary>
    public JobRunner Jobs { get; } = new();

    /// <summary>The settings in force (configuration, then <c>set-config</c>).</summary>
    public RuntimeSettings Settings => Volatile.Read(ref _settings);

    /// <summary>When the command loop last ran (for the watchdog).</summary>
    public DateTimeOffset LastLoopAlive { get; private set; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// True while every main loop (commands, outbox, connection supervisor) has run within
    /// <paramref name="window"/>: what the systemd watchdog ping is conditioned on.
    /// </summary>
    public bool IsMakingProgress(TimeSpan window)
    {
        var now = DateTimeOffset.UtcNow;
        return now - LastLoopAlive < window && now - Publisher.LastAlive < window && now - Connection.LastAlive < window;
    }

    /// <summary>Opens the served model, connects, and starts the loops.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_started)
            return Task.CompletedTask;
        _started = true;
        OpenCurrentModel();
        Volatile.Write(ref _gate, ReadGate());
        AnswerInterruptedJobs();
        Connection.Start();
        Publisher.Start();
        _loops.Add(Task.Run(() => ReceiveLoopAsync(_stop.Token), cancellationToken));
        _loops.Add(Task.Run(() => CommandLoopAsync(_stop.Token), cancellationToken));
        _loops.Add(Task.Run(() => GateLoopAsync(_options.GateCheckInterval, _stop.Token), cancellationToken));
        if (_options.TelemetryInterval > TimeSpan.Zero)
            _loops.Add(Task.Run(() => TelemetryLoopAsync(_options.TelemetryInterval, _stop.Token), cancellationToken));
        return Task.CompletedTask;
    }

    /// <summary>Stops taking commands, cancels the job, drains the outbox (up to the configured time), and closes the store.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var loop in _loops)
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        await Jobs.DisposeAsync().ConfigureAwait(false);
        if (_started)
            await Publisher.FlushAsync(_options.ShutdownFlushTimeout).ConfigureAwait(false);
        await Publisher.DisposeAsync().ConfigureAwait(false);
        await Connection.DisposeAsync().ConfigureAwait(false);
        Server.Dispose();
        Store.Dispose();
        _stop.Dispose();
    }

    private RuntimeSettings LoadSettings()
    {
        var defaults = new RuntimeSettings
        {
            Drift = _options.Drift,
            ColdStartShots = _options.ColdStartShots,
            MaxTemperatureC = _options.MaxTemperatureC,
            MaxLoadPerCore = _options.MaxLoadPerCore,
        };
        if (Store.Settings.FindById("runtime") is not { } stored)
            return defaults;
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize(stored.Json, AgentJson.Default.RuntimeSettings) ?? defaults;
        }
        catch (System.Text.Json.JsonException)
        {
            return defaults;
        }
    }
}
