using System.Diagnostics;
using System.Text.Json.Nodes;

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
    public JsonObject SystemHealth()
    {
        var verdict = ReadResources();
        var model = Server.Model?.Installed.Manifest;
        using var process = Process.GetCurrentProcess();
        return new JsonObject
        {
            ["uptimeS"] = Math.Round(Stopwatch.GetElapsedTime(_startedTimestamp).TotalSeconds, 3),
            ["outboxDepth"] = Store.Outbox.Count,
            ["droppedTotal"] = Store.Outbox.DroppedTotal,
            ["workingSetMb"] = Math.Round(process.WorkingSet64 / 1048576.0, 1),
            ["managedHeapMb"] = Math.Round(GC.GetTotalMemory(false) / 1048576.0, 1),
            ["temperatureC"] = verdict.TemperatureC,
            ["loadPerCore"] = verdict.LoadPerCore is { } load ? Math.Round(load, 3) : null,
            ["powerW"] = verdict.PowerWatts,
            ["connected"] = Connection.IsConnected,
            ["model"] = model is null ? null : new JsonObject { ["version"] = model.Version, ["counter"] = model.Counter },
            ["job"] = Jobs.Current?.Kind,
        };
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
                    Metrics.Publish("system", SystemHealth());
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
