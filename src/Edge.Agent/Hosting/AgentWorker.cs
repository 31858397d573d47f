using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Sources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeTL.Agent.Hosting;

/// <summary>
/// The systemd service: starts the embedded broker when asked, then the agent, the watchdog
/// pinger and the sample folder; on SIGTERM it stops taking commands, drains the outbox (up to
/// <see cref="AgentOptions.ShutdownFlushTimeout"/>) and closes the store.
/// </summary>
public sealed class AgentWorker(IOptions<AgentOptions> options, EmbeddedBrokerSettings embedded, ISystemdNotifier notifier, ILoggerFactory loggers, IServiceProvider services) : BackgroundService
{
    private EmbeddedBroker? _broker;
    private EdgeAgent? _agent;
    private V4l2Camera? _camera;

    /// <summary>The running agent (null before start).</summary>
    public EdgeAgent? Agent => _agent;

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var logger = loggers.CreateLogger<AgentWorker>();
        // The watchdog starts first: opening the served model can take long (a first TensorRT
        // engine build). Until the agent runs, pings continue for at most StartupGrace.
        var startedAt = DateTimeOffset.UtcNow;
        // A loop counts as alive when it ran within three ping intervals, plus the connection
        // supervisor's own cadence (it checks the broker about once a second).
        var progressWindow = settings.WatchdogInterval * 3 + TimeSpan.FromSeconds(1);
        var tasks = new List<Task>
        {
            new WatchdogPinger(notifier,
                () => Volatile.Read(ref _agent) is { } running ? running.IsMakingProgress(progressWindow) : DateTimeOffset.UtcNow - startedAt < settings.StartupGrace,
                settings.WatchdogInterval).RunAsync(stoppingToken),
        };
        if (embedded.Enabled)
        {
            _broker = await EmbeddedBroker.StartAsync(settings.Broker.Port, stoppingToken).ConfigureAwait(false);
            logger.Event($"Embedded MQTT broker on 127.0.0.1:{_broker.Port}");
        }
        var agent = services.GetRequiredService<EdgeAgent>();
        await agent.StartAsync(stoppingToken).ConfigureAwait(false);
        Volatile.Write(ref _agent, agent);
        logger.Event($"Agent {settings.Fleet}/{settings.Device} running; data in {Path.GetFullPath(settings.DataDirectory)}");
        if (settings.SampleFolder is { } folder)
            tasks.Add(IngestAsync(new FolderSampleSource(folder, "target", TimeSpan.FromSeconds(1)), logger, stoppingToken));
        if (settings.CameraDevice is { } device)
        {
            _camera = new V4l2Camera(device, logger: loggers.CreateLogger<V4l2Camera>());
            tasks.Add(IngestAsync(new CameraSampleSource(_camera, settings.CameraInterval, "target"), logger, stoppingToken));
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private async Task IngestAsync(ISampleSource source, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var sample in source.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    _agent!.Ingest(sample.Image, sample.Label, sample.Domain, sample.Origin);
                }
                catch (Exception e) when (e is AgentException or Commands.InvalidCommandArgumentsException or Runtime.EdgeRuntimeException)
                {
                    logger.SampleRejected(sample.Origin, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <inheritdoc/>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_agent is not null)
            await _agent.DisposeAsync().ConfigureAwait(false);
        if (_broker is not null)
            await _broker.DisposeAsync().ConfigureAwait(false);
        _camera?.Dispose();
    }
}
