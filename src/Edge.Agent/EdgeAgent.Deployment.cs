using Microsoft.Extensions.Logging;
using System.Text.Json.Nodes;
using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Deployment;
using EdgeTL.Agent.Serving;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Agent;

/// <summary>Deployment: <c>deploy</c>, <c>rollback</c>, the group's retained desired state, and what is served at start.</summary>
public sealed partial class EdgeAgent
{
    private ModelStore _models = null!;
    private Deployer _deployer = null!;
    private TrustedKeys _keys = null!;

    private JsonObject? _lastDeployment;

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
    }

    private void OpenCurrentModel()
    {
        var served = _deployer.OpenCurrent();
        Server.Replace(served, served is null ? null : LoadServingHead(served.Installed.Manifest.Counter));
        if (served is not null)
            ResetDriftReference();
    }

    private HeadClassifier? LoadServingHead(long counter)
    {
        if (Store.Heads.Serving(counter) is not { } record || !File.Exists(record.Path) || !Trainer.TorchRuntime.IsAvailable)
            return null;
        return HeadClassifier.Load(record);
    }

    private Task<CommandResult> DeployAsync(CommandEnvelope command, CommandArgs args, CancellationToken cancellationToken)
    {
        string url = args.Text("url");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var source))
            throw new InvalidCommandArgumentsException($"args.url '{url}' is not an absolute URL (file://, http://, https://).");
        return StartJob(command, "deploy", token => RunDeploymentAsync(command, source, token));
    }

    private async Task<CommandResult> RunDeploymentAsync(CommandEnvelope command, Uri source, CancellationToken cancellationToken)
    {
        long before = Server.Counter;
        var outcome = await _deployer.DeployAsync(source, cancellationToken).ConfigureAwait(false);
        var data = new JsonObject
        {
            ["status"] = outcome.Status.ToString(),
            ["reason"] = outcome.Reason,
            ["version"] = outcome.Version,
            ["counter"] = outcome.Counter,
            ["seconds"] = outcome.Elapsed.TotalSeconds,
        };
        if (outcome.Code is { } code)
            data["code"] = code.ToString();
        if (outcome.Health is { } health)
            data["health"] = new JsonObject { ["passed"] = health.Passed, ["reason"] = health.Reason, ["maxAbsDifference"] = health.MaxAbsDifference, ["medianLatencyMs"] = health.MedianLatencyMs };
        if (outcome.Status is DeploymentStatus.Promoted or DeploymentStatus.RolledBack)
        {
            long counter = outcome.Served?.Installed.Manifest.Counter ?? 0;
            Server.Replace(outcome.Served, counter == 0 ? null : LoadServingHead(counter));
            if (outcome.Status == DeploymentStatus.Promoted)
            {
                DeployedAt = _time.GetUtcNow();
                _coldStartReported = false;
            }
            if (outcome.Served is not null)
                ResetDriftReference();
        }
        Metrics.Publish("deployment", (JsonObject)data.DeepClone(), droppable: false);
        Volatile.Write(ref _lastDeployment, new JsonObject
        {
            ["command"] = command.Id,
            ["status"] = outcome.Status.ToString(),
            ["reason"] = outcome.Reason,
            ["source"] = source.AbsoluteUri,
            ["at"] = _time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        });
        PublishState();
        return outcome.Status == DeploymentStatus.Promoted
            ? Result(command, CommandStatus.Ok, $"Deployed {outcome.Version} (counter {outcome.Counter}; was {before}).", data)
            : Result(command, CommandStatus.Failed, $"{outcome.Status}: {outcome.Reason}", data);
    }

    private Task<CommandResult> RollBackAsync(CommandEnvelope command, CommandArgs args, CancellationToken cancellationToken)
    {
        string target = args.OptionalString("target") ?? "model";
        if (target == "head")
            return Task.FromResult(RollBackHead(command));
        if (target != "model")
            throw new InvalidCommandArgumentsException("args.target must be 'model' or 'head'.");
        var outcome = _deployer.RollBack();
        if (outcome.Status != DeploymentStatus.RolledBack)
            return Task.FromResult(Result(command, CommandStatus.Failed, outcome.Reason));
        Server.Replace(outcome.Served, outcome.Served is null ? null : LoadServingHead(outcome.Counter));
        ResetDriftReference();
        PublishState();
        return Task.FromResult(Result(command, CommandStatus.Ok, $"Rolled back to {outcome.Version} (counter {outcome.Counter}).",
            new JsonObject { ["version"] = outcome.Version, ["counter"] = outcome.Counter }));
    }

    private CommandResult RollBackHead(CommandEnvelope command)
    {
        long counter = Server.Counter;
        if (Store.Heads.LastRetired(counter) is not { } previous)
            return Result(command, CommandStatus.Failed, "There is no earlier head of this model to roll back to.");
        Store.Heads.Promote(previous.Id);
        Server.ReplaceHead(HeadClassifier.Load(previous));
        ResetDriftReference();
        return Result(command, CommandStatus.Ok, $"Serving head {previous.Id} again.", new JsonObject { ["headId"] = previous.Id });
    }

    /// <summary>The group's retained desired state <c>{url, counter}</c>: deploy when it is newer than what runs.</summary>
    private void OnDesiredState(byte[] payload)
    {
        try
        {
            var node = JsonNode.Parse(payload) as JsonObject;
            string? url = node?["url"]?.GetValue<string>();
            long counter = node?["counter"]?.GetValue<long>() ?? 0;
            if (url is null || counter <= Server.Counter)
                return;
            var id = $"desired-{counter}";
            var command = new CommandEnvelope(id, CommandNames.Deploy, _time.GetUtcNow(), null, null);
            if (!Store.Inbox.TryClaim(id, CommandNames.Deploy, out _))
                return;
            _ = StartJob(command, "deploy", token => RunDeploymentAsync(command, new Uri(url), token));
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException or UriFormatException)
        {
            Metrics.Publish("event", new JsonObject { ["event"] = "desired-state-ignored", ["reason"] = e.Message }, droppable: false);
        }
    }

    private void PublishState() =>
        Store.Outbox.Enqueue(Topics.State, StatePayload(), retain: true, droppable: false);

    private byte[] StatePayload()
    {
        var model = Server.Model?.Installed.Manifest;
        var head = Server.Head?.Record;
        var state = new JsonObject
        {
            ["state"] = "online",
            ["model"] = model is null ? null : new JsonObject { ["name"] = model.Name, ["version"] = model.Version, ["counter"] = model.Counter },
            ["head"] = head is null ? null : new JsonObject { ["id"] = head.Id, ["kind"] = head.Kind, ["accuracy"] = head.Accuracy },
            ["training"] = Trainer.TorchRuntime.IsAvailable ? "available" : "unavailable",
            ["lastDeployment"] = Volatile.Read(ref _lastDeployment)?.DeepClone(),
        };
        return System.Text.Encoding.UTF8.GetBytes(state.ToJsonString());
    }
}
