using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Deployment;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Serving;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;

namespace EdgeTL.Agent.Services;

/// <summary>Deployment: a package deployed (by command or by the group's retained desired state) and rolled back, model or head.</summary>
public sealed class DeploymentService
{
    private readonly ModelServing _serving;
    private readonly ServingUpdates _updates;
    private readonly StatePublisher _state;
    private readonly ColdStartService _coldStart;
    private readonly DriftMonitor _drift;
    private readonly JobService _jobs;
    private readonly AgentStore _store;
    private readonly MetricsPublisher _metrics;
    private readonly CommandResults _results;
    private readonly TimeProvider _time;

    /// <summary>Creates the deployment service.</summary>
    public DeploymentService(ModelServing serving, ServingUpdates updates, StatePublisher state, ColdStartService coldStart, DriftMonitor drift, JobService jobs,
        AgentStore store, MetricsPublisher metrics, CommandResults results, TimeProvider time)
    {
        _serving = serving;
        _updates = updates;
        _state = state;
        _coldStart = coldStart;
        _drift = drift;
        _jobs = jobs;
        _store = store;
        _metrics = metrics;
        _results = results;
        _time = time;
    }

    /// <summary>Fetches, verifies, installs and health-checks the package at <paramref name="source"/>, and serves it if it passes.</summary>
    public async Task<CommandResult> DeployAsync(CommandEnvelope command, Uri source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(source);
        long before = _serving.Server.Counter;
        var outcome = await _serving.Deployer.DeployAsync(source, cancellationToken).ConfigureAwait(false);
        var health = outcome.Health is { } h ? new HealthCheck(h.Passed, h.Reason, h.MaxAbsDifference, h.MedianLatencyMs) : null;
        PrecisionChoice? precision = null;
        if (outcome.Status is DeploymentStatus.Promoted or DeploymentStatus.RolledBack)
        {
            precision = _serving.Exclusively(() =>
            {
                // A rollback between the install and here moved the store back: serving this now would serve what the store no longer names.
                if (outcome.Served is { } served && !_serving.Deployer.IsCurrent(served.Installed))
                {
                    served.Dispose();
                    throw new AgentException(AgentErrorCode.ModelChanged,
                        $"A rollback landed while {outcome.Version} (counter {outcome.Counter}) was being installed; the model it rolled back to serves. Send deploy again.");
                }
                if (outcome.Status == DeploymentStatus.Promoted)
                {
                    _serving.DeployedAt = _time.GetUtcNow();
                    _coldStart.OnDeployed();
                }
                return _updates.Serve(outcome.Served);
            });
        }
        var report = new DeploymentReport(outcome.Status.ToString(), outcome.Reason, outcome.Version, outcome.Counter, outcome.Elapsed.TotalSeconds,
            outcome.Code?.ToString(), health, command.Id, precision);
        _metrics.Publish(MetricKinds.Deployment, report, ProtocolJson.Default.DeploymentReport, droppable: false);
        _serving.RecordLastDeployment(new DeploymentRef(command.Id, outcome.Status.ToString(), outcome.Reason, source.AbsoluteUri, _time.GetUtcNow(), outcome.Counter));
        _state.Publish();
        return outcome.Status == DeploymentStatus.Promoted
            ? _results.Result(command, CommandStatus.Ok, $"Deployed {outcome.Version} (counter {outcome.Counter}; was {before}){(precision is null ? "" : $"; {precision.Reason}")}.", report, ProtocolJson.Default.DeploymentReport)
            : _results.Result(command, CommandStatus.Failed, $"{outcome.Status}: {outcome.Reason}", report, ProtocolJson.Default.DeploymentReport);
    }

    /// <summary>Serves the previous model version again.</summary>
    public CommandResult RollBackModel(CommandEnvelope command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return _serving.TryExclusively(RollbackWait, () => RollBackModelNow(command), out var result) ? result : ChangeInProgress(command);
    }

    private CommandResult RollBackModelNow(CommandEnvelope command)
    {
        var outcome = _serving.Deployer.RollBack();
        if (outcome.Status != DeploymentStatus.RolledBack)
            return _results.Failed(command, outcome.Reason, nameof(AgentErrorCode.NothingToRollBack));
        _serving.Serve(outcome.Served);
        _drift.Reset();
        _serving.RecordLastDeployment(new DeploymentRef(command.Id, DeploymentStatus.RolledBack.ToString(), $"Rolled back on command to {outcome.Version} (counter {outcome.Counter}).",
            "rollback", _time.GetUtcNow(), outcome.Counter));
        _state.Publish();
        return _results.Result(command, CommandStatus.Ok, $"Rolled back to {outcome.Version} (counter {outcome.Counter}).",
            new RollbackReport("model", outcome.Version, outcome.Counter), ProtocolJson.Default.RollbackReport);
    }

    /// <summary>How long a rollback waits for a change of what serves in progress (a promotion, an install) before it answers <c>busy</c>.</summary>
    public static readonly TimeSpan RollbackWait = TimeSpan.FromSeconds(5);

    private CommandResult ChangeInProgress(CommandEnvelope command) =>
        _results.Result(command, CommandStatus.Busy,
            $"A job is changing what serves (a promotion or install) and did not finish within {RollbackWait.TotalSeconds:F0} s; nothing was rolled back. Send rollback again.");

    /// <summary>Serves the previous device head of the served model again.</summary>
    public CommandResult RollBackHead(CommandEnvelope command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return _serving.TryExclusively(RollbackWait, () => RollBackHeadNow(command), out var result) ? result : ChangeInProgress(command);
    }

    private CommandResult RollBackHeadNow(CommandEnvelope command)
    {
        if (_serving.Server.Model?.Installed.Manifest is not { } model || _store.Heads.LastRetired(model.Counter, ModelServing.HeadKey(model)) is not { } previous)
            return _results.Failed(command, "There is no earlier head of this model to roll back to.", nameof(AgentErrorCode.NothingToRollBack));
        _store.Heads.Promote(previous.Id);
        _serving.Server.ReplaceHead(HeadClassifier.Load(previous));
        _drift.Reset();
        _state.Publish();
        return _results.Result(command, CommandStatus.Ok, $"Serving head {previous.Id} again.", new RollbackReport("head", HeadId: previous.Id), ProtocolJson.Default.RollbackReport);
    }

    /// <summary>The group's retained desired state: deploy when its counter is newer than what runs.</summary>
    public void OnDesiredState(byte[] payload)
    {
        DesiredState desired;
        try
        {
            desired = PayloadReader.ReadUtf8(payload, ProtocolJson.Default.DesiredState, "desired state");
            _ = new Uri(desired.Url, UriKind.Absolute);
        }
        catch (Exception e) when (e is ProtocolException or UriFormatException)
        {
            _metrics.Publish(MetricKinds.Event, new AgentEvent("desired-state-ignored", e.Message), ProtocolJson.Default.AgentEvent, droppable: false);
            return;
        }
        if (desired.Counter <= _serving.Server.Counter)
            return;
        var id = DesiredState.CommandId(desired.Counter);
        var command = new CommandEnvelope(id, CommandNames.Deploy, _time.GetUtcNow());
        if (!_store.Inbox.TryClaim(id, CommandNames.Deploy, out _))
            return;
        _ = _jobs.Start(command, CommandNames.Deploy, token => DeployAsync(command, new Uri(desired.Url), token));
    }
}
