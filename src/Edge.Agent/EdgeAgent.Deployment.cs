using System.Text.Json;
using Microsoft.Extensions.Logging;
using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Deployment;
using EdgeTL.Agent.Serving;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Agent;

/// <summary>Deployment: <c>deploy</c>, <c>rollback</c>, the group's retained desired state, and what is served at start.</summary>
public sealed partial class EdgeAgent
{
    private ModelStore _models = null!;
    private Deployer _deployer = null!;
    private TrustedKeys _keys = null!;

    private const string LastDeploymentSetting = "lastDeployment";
    private DeploymentRef? _lastDeployment;

    /// <summary>The last deployment's outcome (kept in the store, so a restart still knows it).</summary>
    public DeploymentRef? LastDeployment => Volatile.Read(ref _lastDeployment);

    /// <summary>When the current package was deployed (cold start measures from here).</summary>
    public DateTimeOffset? DeployedAt { get; private set; }

    private void InitializeDeployment()
    {
        Directory.CreateDirectory(_options.TrustedKeysDirectory);
        _keys = TrustedKeys.FromDirectory(_options.TrustedKeysDirectory);
        _models = new ModelStore(Path.Combine(_options.DataDirectory, "models"), _keys, keepVersions: _options.KeepVersions);
        var fetcher = new PackageFetcher(Path.Combine(_options.DataDirectory, "downloads"));
        var gate = new HealthGate(new HealthGateOptions { LatencyBudget = TimeSpan.FromMilliseconds(_options.HealthLatencyBudgetMs) }, _time);
        _deployer = new Deployer(_models, fetcher, gate, _loggers.CreateLogger<Deployer>(), _options.Sessions(), _time);
        _lastDeployment = LoadLastDeployment();
        // What a backbone fine-tune killed between its export and its install leaves; the served model never depends on it.
        string exports = Path.Combine(_options.DataDirectory, ExportsFolder);
        if (Directory.Exists(exports))
            Directory.Delete(exports, recursive: true);
    }

    private DeploymentRef? LoadLastDeployment()
    {
        if (Store.Settings.FindById(LastDeploymentSetting) is not { } stored)
            return null;
        try
        {
            return JsonSerializer.Deserialize(stored.Json, ProtocolJson.Default.DeploymentRef);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private void RecordLastDeployment(DeploymentRef deployment)
    {
        Volatile.Write(ref _lastDeployment, deployment);
        try
        {
            Store.Settings.Upsert(new SettingRecord { Id = LastDeploymentSetting, Json = JsonSerializer.Serialize(deployment, ProtocolJson.Default.DeploymentRef) });
        }
        catch (Exception e) when (DiskSpace.IsFull(e))
        {
            // Still in memory and in the retained state; a restart before space returns forgets it.
        }
    }

    private void OpenCurrentModel()
    {
        var served = _deployer.OpenCurrent();
        Server.Replace(served, served is null ? null : LoadServingHead(served.Installed.Manifest));
        if (served is not null)
            ResetDriftReference();
    }

    /// <summary>The device head serving on <paramref name="model"/> (its package counter and, for a device-made version, its version), or null.</summary>
    private HeadClassifier? LoadServingHead(ModelManifest model)
    {
        if (Store.Heads.Serving(model.Counter, HeadKey(model)) is not { } record || !File.Exists(record.Path) || !Trainer.TorchRuntime.IsAvailable)
            return null;
        return HeadClassifier.Load(record);
    }

    /// <summary>What device heads are recorded under besides the counter: the version of a device-made model, null for a shipped package.</summary>
    private static string? HeadKey(ModelManifest model) => model.DeviceMade is null ? null : model.Version;

    private Task<CommandResult> DeployAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        string url = ArgsOf(command, ProtocolJson.Default.DeployArgs).Url;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var source))
            throw new InvalidCommandArgumentsException($"args.url '{url}' is not an absolute URL (file://, http://, https://).");
        return StartJob(command, CommandNames.Deploy, token => RunDeploymentAsync(command, source, token));
    }

    private async Task<CommandResult> RunDeploymentAsync(CommandEnvelope command, Uri source, CancellationToken cancellationToken)
    {
        long before = Server.Counter;
        var outcome = await _deployer.DeployAsync(source, cancellationToken).ConfigureAwait(false);
        var health = outcome.Health is { } h ? new HealthCheck(h.Passed, h.Reason, h.MaxAbsDifference, h.MedianLatencyMs) : null;
        var report = new DeploymentReport(outcome.Status.ToString(), outcome.Reason, outcome.Version, outcome.Counter, outcome.Elapsed.TotalSeconds,
            outcome.Code?.ToString(), health, command.Id);
        if (outcome.Status is DeploymentStatus.Promoted or DeploymentStatus.RolledBack)
        {
            Server.Replace(outcome.Served, outcome.Served is null ? null : LoadServingHead(outcome.Served.Installed.Manifest));
            if (outcome.Status == DeploymentStatus.Promoted)
            {
                DeployedAt = _time.GetUtcNow();
                _coldStartReported = false;
            }
            if (outcome.Served is not null)
                ResetDriftReference();
        }
        Metrics.Publish(MetricKinds.Deployment, report, ProtocolJson.Default.DeploymentReport, droppable: false);
        RecordLastDeployment(new DeploymentRef(command.Id, outcome.Status.ToString(), outcome.Reason, source.AbsoluteUri, _time.GetUtcNow(), outcome.Counter));
        PublishState();
        return outcome.Status == DeploymentStatus.Promoted
            ? Result(command, CommandStatus.Ok, $"Deployed {outcome.Version} (counter {outcome.Counter}; was {before}).", report, ProtocolJson.Default.DeploymentReport)
            : Result(command, CommandStatus.Failed, $"{outcome.Status}: {outcome.Reason}", report, ProtocolJson.Default.DeploymentReport);
    }

    private Task<CommandResult> RollBackAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        string target = ArgsOf(command, ProtocolJson.Default.RollbackArgs).Target;
        if (target == "head")
            return Task.FromResult(RollBackHead(command));
        var outcome = _deployer.RollBack();
        if (outcome.Status != DeploymentStatus.RolledBack)
            return Task.FromResult(Failed(command, outcome.Reason, nameof(AgentErrorCode.NothingToRollBack)));
        Server.Replace(outcome.Served, outcome.Served is null ? null : LoadServingHead(outcome.Served.Installed.Manifest));
        ResetDriftReference();
        RecordLastDeployment(new DeploymentRef(command.Id, DeploymentStatus.RolledBack.ToString(), $"Rolled back on command to {outcome.Version} (counter {outcome.Counter}).",
            "rollback", _time.GetUtcNow(), outcome.Counter));
        PublishState();
        return Task.FromResult(Result(command, CommandStatus.Ok, $"Rolled back to {outcome.Version} (counter {outcome.Counter}).",
            new RollbackReport("model", outcome.Version, outcome.Counter), ProtocolJson.Default.RollbackReport));
    }

    private CommandResult RollBackHead(CommandEnvelope command)
    {
        if (Server.Model?.Installed.Manifest is not { } model || Store.Heads.LastRetired(model.Counter, HeadKey(model)) is not { } previous)
            return Failed(command, "There is no earlier head of this model to roll back to.", nameof(AgentErrorCode.NothingToRollBack));
        Store.Heads.Promote(previous.Id);
        Server.ReplaceHead(HeadClassifier.Load(previous));
        ResetDriftReference();
        PublishState();
        return Result(command, CommandStatus.Ok, $"Serving head {previous.Id} again.", new RollbackReport("head", HeadId: previous.Id), ProtocolJson.Default.RollbackReport);
    }

    /// <summary>The group's retained desired state: deploy when its counter is newer than what runs.</summary>
    private void OnDesiredState(byte[] payload)
    {
        DesiredState desired;
        try
        {
            desired = PayloadReader.ReadUtf8(payload, ProtocolJson.Default.DesiredState, "desired state");
            _ = new Uri(desired.Url, UriKind.Absolute);
        }
        catch (Exception e) when (e is ProtocolException or UriFormatException)
        {
            Metrics.Publish(MetricKinds.Event, new AgentEvent("desired-state-ignored", e.Message), ProtocolJson.Default.AgentEvent, droppable: false);
            return;
        }
        if (desired.Counter <= Server.Counter)
            return;
        var id = DesiredState.CommandId(desired.Counter);
        var command = new CommandEnvelope(id, CommandNames.Deploy, _time.GetUtcNow());
        if (!Store.Inbox.TryClaim(id, CommandNames.Deploy, out _))
            return;
        _ = StartJob(command, CommandNames.Deploy, token => RunDeploymentAsync(command, new Uri(desired.Url), token));
    }
}
