using System.Globalization;
using System.Reflection;
using EdgeTL.Agent.Hosting;

namespace EdgeTL.Agent.Tests.Hosting;

/// <summary>
/// The configuration keys of <see cref="AgentOptions"/> and its sections
/// (<c>BrokerOptions</c>, <see cref="DriftPolicy"/>) by reflection (written here, apart from the agent's own walk, so the
/// tests do not take the code under test on trust), with the defaults a fresh instance has.
/// </summary>
internal static class OptionKeys
{
    /// <summary>Every key (<c>Agent:Broker:Port</c>) and its default value.</summary>
    public static IReadOnlyList<(string Key, Type Type, object? Default)> All()
    {
        var keys = new List<(string, Type, object?)>();
        Add(typeof(AgentOptions), new AgentOptions(), "Agent", keys);
        return keys;
    }

    private static void Add(Type type, object instance, string path, List<(string, Type, object?)> keys)
    {
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
        {
            object? value = p.GetValue(instance);
            if (p.PropertyType.IsClass && p.PropertyType != typeof(string) && p.PropertyType.Namespace?.StartsWith("EdgeTL", StringComparison.Ordinal) == true)
                Add(p.PropertyType, value!, path + ":" + p.Name, keys);
            else
                keys.Add((path + ":" + p.Name, p.PropertyType, value));
        }
    }

    /// <summary>A default as the configuration (and docs/configuration.md) writes it: invariant, TimeSpan as hh:mm:ss, bools lower case; null for none.</summary>
    public static string? Text(object? value) => value switch
    {
        null => null,
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>The repository root (where EdgeTL.sln is).</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeTL.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("EdgeTL.sln not found above " + AppContext.BaseDirectory);
    }
}
