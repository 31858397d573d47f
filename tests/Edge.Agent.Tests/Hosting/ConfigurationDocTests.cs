using System.Text.Json.Nodes;
using EdgeTL.Agent.Hosting;

namespace EdgeTL.Agent.Tests.Hosting;

/// <summary>
/// docs/configuration.md and appsettings.json cannot drift from the options types: the doc names
/// exactly the keys of <see cref="AgentOptions"/> (with its Broker and Drift sections) with the
/// defaults the types have, and appsettings.json sets only real keys, to those same defaults.
/// </summary>
public sealed class ConfigurationDocTests
{
    [Fact]
    public void Configuration_doc_names_exactly_the_option_keys_with_their_defaults()
    {
        var rows = DocRows();
        var keys = OptionKeys.All();

        var undocumented = keys.Select(k => k.Key).Except(rows.Keys, StringComparer.Ordinal).ToList();
        var unknown = rows.Keys.Except(keys.Select(k => k.Key), StringComparer.Ordinal).ToList();
        Assert.True(undocumented.Count == 0, "docs/configuration.md does not document " + string.Join(", ", undocumented) + " (add a row to its table of keys)");
        Assert.True(unknown.Count == 0, "docs/configuration.md documents keys the options types do not have: " + string.Join(", ", unknown));
        foreach (var (key, _, value) in keys)
        {
            string cell = rows[key].Default;
            if (key == "Agent:Device")
                Assert.Contains("host name", cell, StringComparison.Ordinal);           // machine-dependent
            else if (OptionKeys.Text(value) is { } text)
                Assert.True(cell.StartsWith($"`{text}`", StringComparison.Ordinal), $"docs/configuration.md gives {key} the default {cell}; the type has `{text}`");
            else
                Assert.True(cell.StartsWith("unset", StringComparison.Ordinal), $"docs/configuration.md gives {key} the default {cell}; the type has none (write 'unset')");
        }
    }

    [Fact]
    public void Appsettings_json_sets_only_known_keys_to_the_types_defaults()
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(OptionKeys.RepoRoot(), "src", "Edge.Agent", "appsettings.json")))!;
        var defaults = OptionKeys.All().ToDictionary(k => k.Key, k => OptionKeys.Text(k.Default), StringComparer.OrdinalIgnoreCase);
        var set = new List<(string Key, string Value)>();
        Flatten(json, "", set);

        Assert.NotEmpty(set);
        foreach (var (key, value) in set)
        {
            Assert.True(defaults.TryGetValue(key, out var expected), $"appsettings.json sets {key}, which is not a setting");
            Assert.True(double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out double number) && double.TryParse(expected, System.Globalization.CultureInfo.InvariantCulture, out double d)
                ? number == d : value == expected, $"appsettings.json sets {key} to {value}; the type's default is {expected}");
        }
    }

    private static void Flatten(JsonNode node, string path, List<(string, string)> into)
    {
        if (node is JsonObject o)
        {
            foreach (var (name, child) in o)
                Flatten(child!, path.Length == 0 ? name : path + ":" + name, into);
        }
        else
        {
            into.Add((path, node.ToJsonString().Trim('"')));
        }
    }

    /// <summary>The rows of the doc's key tables: <c>| `Agent:Key` | type | default | range | what |</c>.</summary>
    private static Dictionary<string, (string Type, string Default)> DocRows()
    {
        string doc = File.ReadAllText(Path.Combine(OptionKeys.RepoRoot(), "docs", "configuration.md"));
        var rows = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        foreach (var line in doc.Split('\n').Where(l => l.StartsWith("| `Agent:", StringComparison.Ordinal)))
        {
            var cells = line.Split('|').Select(c => c.Trim()).ToArray();
            string key = cells[1].Trim('`');
            Assert.True(rows.TryAdd(key, (cells[2], cells[3])), $"docs/configuration.md has {key} twice");
        }
        return rows;
    }
}
