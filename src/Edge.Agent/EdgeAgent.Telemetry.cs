using System.Diagnostics;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;

namespace EdgeTL.Agent;

/// <summary>
/// The agent's heartbeat: every <see cref="Hosting.AgentOptions.TelemetryInterval"/> a
/// <c>metrics/system</c> message with uptime, outbox depth and drops, memory, temperature, load,
/// power and what is served. It goes through the outbox like every metric, so a dead broker or a
/// restart loses none of them.
/// </summary>
public sealed partial class EdgeAgent
{
    private readonly long _startedTimestamp = Stopwatch.GetTimestamp();

    /// <summary>Builds the <c>metrics/system</c> payload of this moment.</summary>
    public SystemHealth SystemHealth()
    {
        var verdict = ReadResources();
        using var process = Process.GetCurrentProcess();
        return new SystemHealth(Math.Round(Stopwatch.GetElapsedTime(_startedTimestamp).TotalSeconds, 3), Store.Outbox.Count, Store.Outbox.DroppedTotal,
            Math.Round(process.WorkingSet64 / 1048576.0, 1), Math.Round(GC.GetTotalMemory(false) / 1048576.0, 1), verdict.TemperatureC,
            verdict.LoadPerCore is { } load ? Math.Round(load, 3) : null, verdict.PowerWatts, Connection.IsConnected, ServedModel(), Jobs.Current?.Kind, Gate.State);
    }

    private async Task TelemetryLoopAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    Metrics.Publish(MetricKinds.System, SystemHealth(), ProtocolJson.Default.SystemHealth);
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
