using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Jobs;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Serving;
using EdgeTL.Agent.Services;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Protocol.Topics;
using EdgeTL.Runtime.Statistics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent;

/// <summary>
/// The device agent: MQTT commands in, results and metrics out through the persisted outbox,
/// models deployed and served, samples ingested, heads trained (cold start, fine-tune), drift
/// watched and adapted to. It starts and stops the loops; the work is done by the services and
/// command handlers <see cref="AgentModule"/> composes. Usable without a host (tests, the demo);
/// <see cref="AgentWorker"/> runs it under the Generic Host as a systemd service.
/// </summary>
public sealed class EdgeAgent : IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly ServiceProvider? _ownedServices;
    private readonly CommandDispatcher _dispatcher;
    private readonly ModelServing _serving;
    private readonly TrainingGateService _training;
    private readonly StatePublisher _state;
    private readonly SettingsService _settings;
    private readonly DriftMonitor _drift;
    private readonly SampleIntake _intake;
    private readonly JobService _jobs;
    private readonly TelemetryService _telemetry;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private bool _started;
    private int _disposed;

    /// <summary>Creates the agent without a host: validates <paramref name="options"/>, opens the store and the model store. Call <see cref="StartAsync"/> next.</summary>
    /// <exception cref="AgentException"><paramref name="options"/> are invalid.</exception>
    public EdgeAgent(AgentOptions options, ILoggerFactory? loggers = null, TimeProvider? time = null)
        : this(AgentModule.Build(options, loggers, time), owned: true)
    {
    }

    /// <summary>Creates the agent from a container where <see cref="AgentModule.AddAgentCore"/> registered it (the Generic Host, which disposes the services).</summary>
    public EdgeAgent(IServiceProvider services)
        : this(services, owned: false)
    {
    }

    private EdgeAgent(IServiceProvider services, bool owned)
    {
        ArgumentNullException.ThrowIfNull(services);
        _ownedServices = owned ? (ServiceProvider)services : null;
        _options = services.GetRequiredService<AgentOptions>();
        // Resolved in the order they are to be disposed in reverse: the store last.
        Store = services.GetRequiredService<AgentStore>();
        Connection = services.GetRequiredService<MqttConnection>();
        Publisher = services.GetRequiredService<OutboxPublisher>();
        Server = services.GetRequiredService<ModelServer>();
        Jobs = services.GetRequiredService<JobRunner>();
        Topics = services.GetRequiredService<DeviceTopics>();
        Metrics = services.GetRequiredService<MetricsPublisher>();
        _settings = services.GetRequiredService<SettingsService>();
        _serving = services.GetRequiredService<ModelServing>();
        _training = services.GetRequiredService<TrainingGateService>();
        _state = services.GetRequiredService<StatePublisher>();
        _jobs = services.GetRequiredService<JobService>();
        _drift = services.GetRequiredService<DriftMonitor>();
        _intake = services.GetRequiredService<SampleIntake>();
        _telemetry = services.GetRequiredService<TelemetryService>();
        _dispatcher = services.GetRequiredService<CommandDispatcher>();

        // What a change of the training gate sets off, in this order: the retained state, then the
        // automatic jobs that waited for it (cold start first: a first head is what adaptation needs).
        var coldStart = services.GetRequiredService<ColdStartService>();
        _training.Changed += (_, now) =>
        {
            _state.Publish();
            if (now.State != GateState.Available)
                return;
            coldStart.OnGateOpened();
            _drift.OnGateOpened();
        };
        Connection.OnlineState = _state.Payload;
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
    public ModelServer Server { get; }

    /// <summary>The one-at-a-time job runner.</summary>
    public JobRunner Jobs { get; }

    /// <summary>The settings in force (configuration, then <c>set-config</c>).</summary>
    public RuntimeSettings Settings => _settings.Current;

    /// <summary>The device's classes: <c>set-config</c>'s, else the deployed package's labels, else none yet.</summary>
    public IReadOnlyList<string>? Classes => _serving.Classes;

    /// <summary>The last deployment's outcome (kept in the store, so a restart still knows it).</summary>
    public DeploymentRef? LastDeployment => _serving.LastDeployment;

    /// <summary>The last drift report, or null.</summary>
    public DriftReport? LastDrift => _drift.LastDrift;

    /// <summary>The training gate as last checked.</summary>
    public GateState Gate => _training.Current;

    /// <summary>
    /// Decides whether training may run now (the resource gate: thermal, load, power). Returns
    /// null when it may, else the reason. By default reads sysfs thermal zones, /proc/loadavg
    /// and hwmon power against the settings' limits; replaceable (tests, add-on sensors).
    /// </summary>
    public Func<string?> TrainingGate
    {
        get => _training.ResourceCheck;
        set => _training.ResourceCheck = value;
    }

    /// <summary>When the command loop last ran (for the watchdog).</summary>
    public DateTimeOffset LastLoopAlive => _dispatcher.LastAlive;

    /// <summary>
    /// True while every main loop (commands, outbox, connection supervisor) has run within
    /// <paramref name="window"/>: what the systemd watchdog ping is conditioned on.
    /// </summary>
    public bool IsMakingProgress(TimeSpan window)
    {
        var now = DateTimeOffset.UtcNow;
        return now - LastLoopAlive < window && now - Publisher.LastAlive < window && now - Connection.LastAlive < window;
    }

    /// <summary>The retained state now: the same facts <c>status</c> reports.</summary>
    public DeviceState CurrentState() => _state.Current();

    /// <summary>The <c>metrics/system</c> payload of this moment.</summary>
    public SystemHealth SystemHealth() => _telemetry.Current();

    /// <summary>Takes one command message as if it came from the broker. Never throws for bad input: the answer is a result.</summary>
    public void Submit(string topic, byte[] payload) => _dispatcher.Submit(topic, payload);

    /// <summary>
    /// Stores one sample (from MQTT, a folder or the camera) and acts on it: an unlabelled sample
    /// is predicted (published on <c>metrics/prediction</c>) and feeds the drift monitor; a labelled
    /// one may complete the cold-start set. Bad images and unknown labels are refused before storing.
    /// </summary>
    public (long SampleId, ServedPrediction? Prediction) Ingest(byte[] image, string? label, string domain, string origin) =>
        _intake.Ingest(image, label, domain, origin);

    /// <summary>Opens the served model, answers interrupted jobs, connects, and starts the loops.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_started)
            return Task.CompletedTask;
        _started = true;
        if (_serving.OpenCurrent())
            _drift.Reset();
        _training.Initialize();
        _jobs.AnswerInterrupted();
        Connection.Start();
        Publisher.Start();
        _loops.Add(Task.Run(() => _dispatcher.ReceiveAsync(_stop.Token), cancellationToken));
        _loops.Add(Task.Run(() => _dispatcher.RunAsync(_stop.Token), cancellationToken));
        _loops.Add(Task.Run(() => _training.RunAsync(_options.GateCheckInterval, _stop.Token), cancellationToken));
        if (_options.TelemetryInterval > TimeSpan.Zero)
            _loops.Add(Task.Run(() => _telemetry.RunAsync(_options.TelemetryInterval, _stop.Token), cancellationToken));
        return Task.CompletedTask;
    }

    /// <summary>Stops taking commands, cancels the job, drains the outbox (up to the configured time), and closes the connection and the store.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
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
        // In this order whoever owns the services (a second dispose of each does nothing): the
        // drain, then the connection (which says "offline" while the broker is still there), then
        // what is served, then the store.
        await Publisher.DisposeAsync().ConfigureAwait(false);
        await Connection.DisposeAsync().ConfigureAwait(false);
        Server.Dispose();
        Store.Dispose();
        if (_ownedServices is not null)
            await _ownedServices.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
