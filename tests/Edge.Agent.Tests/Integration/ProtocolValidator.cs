using System.Collections.Concurrent;
using System.Text.Json;
using Json.Schema;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>
/// Checks every message an agent publishes against the committed JSON Schemas (docs/protocol/),
/// with JsonSchema.Net as an independent validator: the envelope of a result, state or metric, and
/// its data against the record that command, status or metric kind documents.
/// </summary>
public static class ProtocolValidator
{
    private static readonly ConcurrentDictionary<string, JsonSchema> Schemas = new(StringComparer.Ordinal);

    /// <summary>The schema problems of one message on <paramref name="topic"/> (empty when it conforms), or null when the topic is not the agent's.</summary>
    public static IReadOnlyList<string> Problems(string topic, string payload)
    {
        var levels = topic.Split('/');
        if (levels.Length < 4 || levels[0] != "edgetl" || levels[3] is not ("state" or "metrics" or "result"))
            return [];   // commands are what the test itself sent, malformed ones included
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        var problems = new List<string>();
        switch (levels[3])
        {
            case "state":
                Check("state", root, problems);
                break;
            case "metrics" when levels.Length == 5:
                Check("metric", root, problems);
                if (root.TryGetProperty("data", out var metricData))
                    Check(MetricKinds.DataTypes.ContainsKey(levels[4]) ? $"metric.{levels[4]}.data" : "unknown metric kind " + levels[4], metricData, problems);
                break;
            case "result" when levels.Length == 5:
                Check("result", root, problems);
                if (root.TryGetProperty("data", out var data))
                    CheckResultData(root.GetProperty("name").GetString()!, root.GetProperty("status").GetString()!, data, problems);
                break;
            default:
                break;
        }
        return [.. problems.Select(p => $"{topic}: {p} in {payload}")];
    }

    private static void CheckResultData(string name, string status, JsonElement data, List<string> problems)
    {
        string[] candidates = status switch
        {
            "duplicate" => ["result.DuplicateReport"],
            "interrupted" => ["result.InterruptedReport"],
            "deferred" => ["result.DeferredReport"],
            "failed" => ["result.ErrorReport", .. OkData(name)],
            "ok" => OkData(name),
            _ => ["result.ErrorReport"],
        };
        if (data.ValueKind == JsonValueKind.Null)
        {
            // Errors that say everything in their message carry no data; these statuses always do.
            if (status is "duplicate" or "interrupted" or "deferred" || (status == "ok" && candidates.Length > 0))
                problems.Add($"{name}/{status} must carry data ({string.Join(" or ", candidates)})");
            return;
        }
        var failures = new List<string>();
        foreach (var candidate in candidates)
        {
            var attempt = new List<string>();
            Check(candidate, data, attempt);
            if (attempt.Count == 0)
                return;
            failures.AddRange(attempt);
        }
        problems.Add($"data of {name}/{status} fits none of {string.Join(", ", candidates)}: {string.Join("; ", failures)}");
    }

    private static string[] OkData(string name) => name switch
    {
        "status" => ["result.StatusReport"],
        "deploy" => ["metric.deployment.data"],
        "rollback" => ["result.RollbackReport"],
        "ingest" => ["result.IngestReport"],
        "predict" => ["result.Prediction"],
        "evaluate" => ["metric.evaluation.data"],
        "finetune" => ["metric.training-outcome.data", "metric.coldstart.data"],
        "adapt" => ["metric.adaptation.data"],
        "set-config" => ["result.DeviceSettings"],
        _ => [],
    };

    private static void Check(string schemaName, JsonElement instance, List<string> problems)
    {
        var schema = Schemas.GetOrAdd(schemaName, Load);
        var results = schema.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid)
            return;
        var details = (results.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
        problems.Add($"not a valid {schemaName}: {string.Join("; ", details.DefaultIfEmpty("invalid"))}");
    }

    private static JsonSchema Load(string name)
    {
        string path = Path.Combine(RepoRoot(), "docs", "protocol", $"{name}.schema.json");
        if (!File.Exists(path))
            throw new InvalidOperationException($"No schema {path}: the agent published something the protocol does not document ({name}).");
        return JsonSchema.FromText(File.ReadAllText(path), new BuildOptions(), new Uri($"https://edgetl.invalid/protocol/{name}"));
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EdgeTL.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("EdgeTL.sln not found above " + AppContext.BaseDirectory);
    }
}
