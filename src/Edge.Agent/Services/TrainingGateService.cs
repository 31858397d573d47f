using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Resources;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent.Services;

/// <summary>
/// The training gate: whether training may run (<c>available</c>, <c>deferred</c> by the resource
/// gate, <c>unavailable</c> without libtorch), checked every <see cref="Hosting.AgentOptions.GateCheckInterval"/>.
/// A change is logged and published as an event; <see cref="Changed"/> tells the retained state and
/// the automatic jobs that waited for it.
/// </summary>
public sealed class TrainingGateService
{
    private readonly SettingsService _settings;
    private readonly MetricsPublisher _metrics;
    private readonly ILogger _logger;
    private GateState _gate = new(GateState.Available);

    /// <summary>Creates the gate; it reads the sysfs sensors against the settings' limits until <see cref="ResourceCheck"/> is replaced.</summary>
    public TrainingGateService(SettingsService settings, MetricsPublisher metrics, ILogger<TrainingGateService> logger)
    {
        _settings = settings;
        _metrics = metrics;
        _logger = logger;
        ResourceCheck = SysfsResourceCheck;
    }

    /// <summary>Raised after the gate's state changed (before, now).</summary>
    public event Action<GateState, GateState>? Changed;

    /// <summary>
    /// Decides whether training may run now (the resource gate: thermal, load, power). Returns
    /// null when it may, else the reason. By default reads sysfs thermal zones, /proc/loadavg
    /// and hwmon power against the settings' limits; replaceable (tests, add-on sensors).
    /// </summary>
    public Func<string?> ResourceCheck { get; set; }

    /// <summary>The gate as last checked.</summary>
    public GateState Current => Volatile.Read(ref _gate);

    /// <summary>The device's sensors (sysfs thermal zones, /proc/loadavg, hwmon power) against the settings' limits.</summary>
    public ResourceVerdict ReadResources() =>
        new ResourceGate(new SysfsThermalSensor(), new ProcLoadSensor(), new HwmonPowerSensor(),
            new ResourceGateOptions { MaxTemperatureC = _settings.Current.MaxTemperatureC, MaxLoadPerCore = _settings.Current.MaxLoadPerCore }).Check();

    /// <summary>Reads the gate now (libtorch, then <see cref="ResourceCheck"/>) without recording it.</summary>
    public GateState Read()
    {
        if (!Trainer.TorchRuntime.IsAvailable)
            return new GateState(GateState.Unavailable, $"Training is unavailable on this device: {Trainer.TorchRuntime.Describe()}");
        return ResourceCheck() is { } reason ? new GateState(GateState.Deferred, reason) : new GateState(GateState.Available);
    }

    /// <summary>Records the gate's state without announcing it (at start, before anything is published).</summary>
    public void Initialize() => Volatile.Write(ref _gate, Read());

    /// <summary>Checks the gate; on a change logs it, publishes an event and raises <see cref="Changed"/>.</summary>
    public void Refresh()
    {
        var now = Read();
        var before = Interlocked.Exchange(ref _gate, now);
        if (now.State == before.State)
            return;
        _logger.TrainingGateChanged(now.State, now.Reason ?? "training may run");
        _metrics.Publish(MetricKinds.Event, new AgentEvent("gate-changed", $"training {before.State} → {now.State}{(now.Reason is null ? "" : $": {now.Reason}")}"), ProtocolJson.Default.AgentEvent, droppable: false);
        Changed?.Invoke(before, now);
    }

    /// <summary>Returns when training may run now; otherwise throws: unavailable (no libtorch) fails, a closed gate defers.</summary>
    public void Require(string kind)
    {
        var gate = Read();
        if (gate.State == GateState.Unavailable)
            throw new AgentException(AgentErrorCode.TrainingUnavailable, gate.Reason!);
        if (gate.State == GateState.Deferred)
            throw new TrainingDeferredException(kind, gate.Reason!);
    }

    /// <summary>An automatic job waits for the gate: logged and published (callers do it once per wait).</summary>
    public void ReportAutomaticDeferral(string id, string kind, string reason)
    {
        _logger.TrainingDeferred(kind, id, reason);
        _metrics.Publish(MetricKinds.Deferred, new DeferredReport(id, kind, reason, RetriesWhenOpen: true), ProtocolJson.Default.DeferredReport, droppable: false);
    }

    /// <summary>Checks the gate every <paramref name="interval"/> until cancelled.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    Refresh();
                }
                catch (Exception e) when (e is AgentException or IOException or LiteDB.LiteException)
                {
                    _logger.TelemetrySkipped(e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private string? SysfsResourceCheck()
    {
        var verdict = ReadResources();
        return verdict.Allowed ? null : $"Training deferred: {verdict.Reason}";
    }
}
