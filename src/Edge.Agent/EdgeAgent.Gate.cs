using EdgeTL.Agent.Learning;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;

namespace EdgeTL.Agent;

/// <summary>
/// The training gate, seen from outside: whether training may run (<c>available</c>, <c>deferred</c>
/// by the resource gate, <c>unavailable</c> without libtorch), checked every
/// <see cref="Hosting.AgentOptions.GateCheckInterval"/>. A change is logged, published as an event
/// and in the retained state; when the gate opens, deferred automatic jobs (cold start, drift
/// adaptation) start by themselves.
/// </summary>
public sealed partial class EdgeAgent
{
    private GateState _gate = new(GateState.Available);
    private bool _coldStartDeferred;
    private int _adaptationDeferred;

    /// <summary>The gate as last checked.</summary>
    public GateState Gate => Volatile.Read(ref _gate);

    /// <summary>Reads the gate now (libtorch, then <see cref="TrainingGate"/>).</summary>
    private GateState ReadGate()
    {
        if (!Trainer.TorchRuntime.IsAvailable)
            return new GateState(GateState.Unavailable, $"Training is unavailable on this device: {Trainer.TorchRuntime.Describe()}");
        return TrainingGate() is { } reason ? new GateState(GateState.Deferred, reason) : new GateState(GateState.Available);
    }

    /// <summary>Checks the gate; on a change republishes the state and, when it opened, starts what waited for it.</summary>
    private void RefreshGate()
    {
        var now = ReadGate();
        var before = Interlocked.Exchange(ref _gate, now);
        if (now.State == before.State)
            return;
        _logger.TrainingGateChanged(now.State, now.Reason ?? "training may run");
        Metrics.Publish(MetricKinds.Event, new AgentEvent("gate-changed", $"training {before.State} → {now.State}{(now.Reason is null ? "" : $": {now.Reason}")}"), ProtocolJson.Default.AgentEvent, droppable: false);
        PublishState();
        if (now.State != GateState.Available)
            return;
        _coldStartDeferred = false;
        MaybeStartColdStart();
        if (Interlocked.Exchange(ref _adaptationDeferred, 0) == 1)
            StartAutomaticAdaptation();
    }

    private async Task GateLoopAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    RefreshGate();
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

    /// <summary>Null when training may run now; otherwise throws: unavailable (no libtorch) fails, a closed gate defers.</summary>
    private void RequireTrainingNow(string kind)
    {
        var gate = ReadGate();
        if (gate.State == GateState.Unavailable)
            throw new AgentException(AgentErrorCode.TrainingUnavailable, gate.Reason!);
        if (gate.State == GateState.Deferred)
            throw new TrainingDeferredException(kind, gate.Reason!);
    }

    /// <summary>A <c>deferred</c> answer to a command, with the <c>deferred</c> metric.</summary>
    private CommandResult Deferred(CommandEnvelope command, string kind, string reason)
    {
        var report = new DeferredReport(command.Id, kind, reason, RetriesWhenOpen: false);
        _logger.TrainingDeferred(kind, command.Id, reason);
        Metrics.Publish(MetricKinds.Deferred, report, ProtocolJson.Default.DeferredReport, droppable: false);
        return Result(command, CommandStatus.Deferred, $"{reason}. The {kind} did not run; send it again when the gate opens (see state.training).", report, ProtocolJson.Default.DeferredReport);
    }

    /// <summary>An automatic job waits for the gate: logged and published (callers do it once per wait).</summary>
    private void ReportAutomaticDeferral(string id, string kind, string reason)
    {
        _logger.TrainingDeferred(kind, id, reason);
        Metrics.Publish(MetricKinds.Deferred, new DeferredReport(id, kind, reason, RetriesWhenOpen: true), ProtocolJson.Default.DeferredReport, droppable: false);
    }
}
