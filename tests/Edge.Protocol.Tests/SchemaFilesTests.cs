using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeTL.Protocol.Json;

namespace EdgeTL.Protocol.Tests;

/// <summary>
/// docs/protocol/*.schema.json are the schemas generated from the protocol records: this test keeps
/// them in step. After changing a record, regenerate them with
/// <c>EDGETL_WRITE_SCHEMAS=1 dotnet test tests/Edge.Protocol.Tests --filter SchemaFiles</c>.
/// </summary>
public sealed class SchemaFilesTests
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    internal static string SchemaFolder => Path.Combine(RepoRoot(), "docs", "protocol");

    [Fact]
    public void Committed_schemas_are_exactly_the_generated_ones()
    {
        var generated = ProtocolSchemas.All().ToDictionary(p => $"{p.Key}.schema.json", p => p.Value.ToJsonString(Indented) + "\n");
        if (Environment.GetEnvironmentVariable("EDGETL_WRITE_SCHEMAS") == "1")
        {
            Directory.CreateDirectory(SchemaFolder);
            foreach (var stale in Directory.GetFiles(SchemaFolder, "*.schema.json"))
                File.Delete(stale);
            foreach (var (name, text) in generated)
                File.WriteAllText(Path.Combine(SchemaFolder, name), text);
        }
        var committed = Directory.Exists(SchemaFolder) ? Directory.GetFiles(SchemaFolder, "*.schema.json").Select(Path.GetFileName).ToHashSet() : [];
        Assert.Equal(generated.Keys.Order(StringComparer.Ordinal), committed.Order(StringComparer.Ordinal));
        foreach (var (name, text) in generated)
            Assert.True(text == File.ReadAllText(Path.Combine(SchemaFolder, name)), $"docs/protocol/{name} differs from the records; regenerate it (see this test's summary).");
    }

    [Fact]
    public void Every_command_and_metric_kind_has_a_schema_with_its_ranges()
    {
        var all = ProtocolSchemas.All();
        foreach (var name in Commands.CommandNames.All)
            Assert.True(all.ContainsKey($"cmd.{name}.args"), name);
        foreach (var kind in Payloads.MetricKinds.DataTypes.Keys)
            Assert.True(all.ContainsKey($"metric.{kind}.data"), kind);
        var epochs = all["cmd.finetune.args"]["properties"]!["epochs"]!.AsObject();
        Assert.Equal(1, epochs["minimum"]!.GetValue<double>());
        Assert.Equal(1000, epochs["maximum"]!.GetValue<double>());
        Assert.Contains("url", all["cmd.deploy.args"]["required"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.False(all["cmd.finetune.args"]["additionalProperties"]?.GetValue<bool>() ?? true);
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EdgeTL.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("EdgeTL.sln not found above " + AppContext.BaseDirectory);
    }
}
