using System.Diagnostics;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent.Services;

/// <summary>
/// The agent's heartbeat: every <see cref="Hosting.AgentOptions.TelemetryInterval"/> a
/// <c>metrics/system</c> message with uptime, outbox depth and drops, memory, temperature, load,
/// power and what is served. It goes through the outbox like every metric, so a dead broker or a
/// restart loses none of them.
/// </summary>
public sealed class TelemetryService
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly AgentStore _store;
    private readonly MqttConnection _connection;
    private readonly ModelServing _serving;
    private readonly JobService _jobs;
    private readonly TrainingGateService _training;
    private readonly MetricsPublisher _metrics;
    private readonly ILogger _logger;

    /// <summary>Creates the heartbeat.</summary>
    public TelemetryService(AgentStore store, MqttConnection connection, ModelServing serving, JobService jobs, TrainingGateService training, MetricsPublisher metrics,
        ILogger<TelemetryService> logger)
    {
        _store = store;
        _connection = connection;
        _serving = serving;
        _jobs = jobs;
        _training = training;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Builds the <c>metrics/system</c> payload of this moment.</summary>
    public SystemHealth Current()
    {
        var verdict = _training.ReadResources();
        using var process = Process.GetCurrentProcess();
        return new SystemHealth(Math.Round(Stopwatch.GetElapsedTime(_started).TotalSeconds, 3), _store.Outbox.Count, _store.Outbox.DroppedTotal,
            Math.Round(process.WorkingSet64 / 1048576.0, 1), Math.Round(GC.GetTotalMemory(false) / 1048576.0, 1), verdict.TemperatureC,
            verdict.LoadPerCore is { } load ? Math.Round(load, 3) : null, verdict.PowerWatts, _connection.IsConnected, _serving.ServedModel(), _jobs.Current?.Kind,
            _training.Current.State);
    }

    /// <summary>Publishes the heartbeat every <paramref name="interval"/> until cancelled.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    _metrics.Publish(MetricKinds.System, Current(), ProtocolJson.Default.SystemHealth);
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
}
