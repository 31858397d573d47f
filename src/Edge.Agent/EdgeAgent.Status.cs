using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;

namespace EdgeTL.Agent;

/// <summary><c>status</c>, <c>set-config</c> and <c>cancel</c>.</summary>
public sealed partial class EdgeAgent
{
    private Task<CommandResult> StatusAsync(CommandEnvelope command, CommandArgs args, CancellationToken cancellationToken)
    {
        var model = Server.Model?.Installed.Manifest;
        var head = Server.Head?.Record;
        var job = Jobs.Current;
        var data = new JsonObject
        {
            ["device"] = Topics.Device,
            ["fleet"] = Topics.Fleet,
            ["model"] = model is null ? null : new JsonObject { ["name"] = model.Name, ["version"] = model.Version, ["counter"] = model.Counter, ["architecture"] = model.Architecture },
            ["head"] = head is null ? null : new JsonObject { ["id"] = head.Id, ["kind"] = head.Kind, ["accuracy"] = head.Accuracy, ["origin"] = head.Origin },
            ["classes"] = Classes is { } c ? new JsonArray([.. c.Select(x => (JsonNode)x)]) : null,
            ["samples"] = Store.Samples.Count,
            ["labelled"] = new JsonObject([.. Store.Samples.LabelCounts().Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))]),
            ["job"] = job is { } j ? new JsonObject { ["id"] = j.Id, ["kind"] = j.Kind } : null,
            ["outbox"] = new JsonObject { ["depth"] = Store.Outbox.Count, ["droppedTotal"] = Store.Outbox.DroppedTotal },
            ["training"] = TrainingBlocked() ?? "available",
            ["drift"] = LastDrift is { } d ? new JsonObject { ["drift"] = d.Drift, ["mmd2"] = d.Mmd2, ["pValue"] = d.PValue } : null,
        };
        return Task.FromResult(Result(command, CommandStatus.Ok, model is null ? "No model deployed." : $"Serving {model.Name} {model.Version}.", data));
    }

    private Task<CommandResult> SetConfigAsync(CommandEnvelope command, CommandArgs args, CancellationToken cancellationToken)
    {
        var current = Settings;
        var drift = current.Drift;
        if (args.Section("drift") is { } d)
        {
            drift = drift with
            {
                Enabled = d.Bool("enabled", drift.Enabled),
                WindowSize = d.WholeNumber("windowSize", drift.WindowSize, 10, 100_000),
                Alpha = d.Number("alpha", drift.Alpha),
                AutoAdapt = d.Bool("autoAdapt", drift.AutoAdapt),
                Method = d.OptionalString("method") ?? drift.Method,
                AdaptSteps = d.WholeNumber("adaptSteps", drift.AdaptSteps, 1, 100_000),
            };
        }
        var next = current with
        {
            Drift = drift,
            ColdStartShots = args.WholeNumber("coldStartShots", current.ColdStartShots, 1, 10_000),
            Classes = args.Strings("classes") ?? current.Classes,
            MaxTemperatureC = args.Number("maxTemperatureC", current.MaxTemperatureC),
            MaxLoadPerCore = args.Number("maxLoadPerCore", current.MaxLoadPerCore),
        };
        var problems = next.Problems().ToList();
        if (problems.Count > 0)
            throw new InvalidCommandArgumentsException(string.Join(" ", problems));
        string json = JsonSerializer.Serialize(next, AgentJson.Default.RuntimeSettings);
        Store.Settings.Upsert(new SettingRecord { Id = "runtime", Json = json });
        Volatile.Write(ref _settings, next);
        if (drift != current.Drift)
            ResetDriftReference();
        return Task.FromResult(Result(command, CommandStatus.Ok, "Settings updated.", JsonSerializer.SerializeToElement(next, AgentJson.Default.RuntimeSettings)));
    }

    private Task<CommandResult> CancelAsync(CommandEnvelope command, CommandArgs args, CancellationToken cancellationToken)
    {
        string target = args.Text("id");
        return Task.FromResult(Jobs.Cancel(target)
            ? Result(command, CommandStatus.Ok, $"Job {target} is being cancelled; its own result will say Cancelled.")
            : Result(command, CommandStatus.InvalidArguments, $"No running job has id {target}."));
    }
}
