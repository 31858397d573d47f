using System.Collections;
using System.ComponentModel;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;

namespace EdgeTL.Agent.Hosting;

/// <summary>
/// The agent's configuration as an operator meets it: where it comes from, which keys exist
/// (by reflection over <see cref="AgentOptions"/>, <see cref="Messaging.BrokerOptions"/> and
/// <see cref="DriftPolicy"/>), which values cannot be read (named with the form expected), and
/// which keys bind to nothing (misspelt, with the likely intended key).
/// </summary>
internal static class AgentConfiguration
{
    /// <summary>The configuration section of the agent's settings.</summary>
    public const string Section = "Agent";

    /// <summary>The prefix of the environment variables read (<c>EDGETL_Agent__Device=cam-7</c>).</summary>
    public const string EnvironmentPrefix = "EDGETL_";

    /// <summary>What <c>run --help</c> says about where settings come from.</summary>
    public const string SourcesHelp =
        "Settings (section Agent) come from appsettings.json beside the binary, then " + AgentHost.SystemConfigFile +
        ", then --config FILE, then EDGETL_Agent__<Key> environment variables (EDGETL_Agent__Broker__Port=8883); " +
        "later sources win. 'edgetl-agent config' prints every key with its value, default and source; " +
        "docs/configuration.md describes each key.";

    private const BindingFlags Public = BindingFlags.Public | BindingFlags.Instance;

    /// <summary>Adds the configuration sources in order: appsettings.json, the system file, <paramref name="configFile"/>, the environment.</summary>
    public static IConfigurationBuilder AddAgentSources(this IConfigurationBuilder builder, string? configFile)
    {
        builder.AddJsonFile("appsettings.json", optional: true);
        builder.AddJsonFile(AgentHost.SystemConfigFile, optional: true);
        if (configFile is not null)
            builder.AddJsonFile(Path.GetFullPath(configFile), optional: false);
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        return builder;
    }

    /// <summary>The configuration <c>run</c> would read (files resolved beside the binary, like the host's content root).</summary>
    public static IConfigurationRoot Load(string? configFile) =>
        new ConfigurationBuilder().SetBasePath(AppContext.BaseDirectory).AddAgentSources(configFile).Build();

    /// <summary>Every key of the agent's settings, in declaration order (sections expanded).</summary>
    public static IReadOnlyList<SettingKey> Keys()
    {
        var keys = new List<SettingKey>();
        AddKeys(typeof(AgentOptions), Section, [], keys);
        return keys;
    }

    private static void AddKeys(Type type, string path, List<PropertyInfo> chain, List<SettingKey> keys)
    {
        foreach (var property in Bindable(type))
        {
            List<PropertyInfo> next = [.. chain, property];
            string key = path + ":" + property.Name;
            if (IsValue(property.PropertyType) || IsCollection(property.PropertyType))
                keys.Add(new SettingKey(key, next));
            else
                AddKeys(property.PropertyType, key, next, keys);
        }
    }

    /// <summary>
    /// Binds <paramref name="section"/> onto <paramref name="options"/> as the configuration binder
    /// does, but a value that cannot be read is a problem naming the key, the value and the form
    /// expected (not the binder's exception). When some are, the rest is still bound so that the
    /// range problems of <see cref="AgentOptions.Problems"/> can be named with them.
    /// </summary>
    /// <returns>The unreadable values (empty when every value was read).</returns>
    public static IReadOnlyList<string> Bind(IConfiguration section, AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(section);
        var check = Check(section);
        IConfiguration source = section;
        if (check.Unreadable.Count > 0)
        {
            // Bind what can be read: the same values less the unreadable ones.
            string prefix = section is IConfigurationSection s ? s.Path + ":" : "";
            var readable = section.AsEnumerable(makePathsRelative: true)
                .Where(kv => kv.Value is not null && !check.Unreadable.ContainsKey(prefix + kv.Key));
            source = new ConfigurationBuilder().AddInMemoryCollection(readable).Build();
        }
        try
        {
            source.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            // A form the check above does not foresee: still one line, naming what the binder names.
            return [.. check.Unreadable.Values, $"{e.Message} {e.InnerException?.Message}".Trim()];
        }
        return [.. check.Unreadable.Values];
    }

    /// <summary>The warnings about keys of <paramref name="section"/> that bind to no setting (they are ignored).</summary>
    public static IReadOnlyList<string> UnknownKeys(IConfiguration section) => Check(section).Unknown;

    private static (Dictionary<string, string> Unreadable, List<string> Unknown) Check(IConfiguration section)
    {
        var unreadable = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var unknown = new List<string>();
        Walk(section, typeof(AgentOptions), Section, unreadable, unknown);
        return (unreadable, unknown);
    }

    private static void Walk(IConfiguration section, Type type, string path, Dictionary<string, string> unreadable, List<string> unknown)
    {
        var properties = Bindable(type).ToList();
        foreach (var child in section.GetChildren())
        {
            // The binder matches names ignoring case; so does this.
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                string? closest = Closest(child.Key, properties.Select(p => p.Name));
                foreach (var (_, rest) in Leaves(child, ""))
                {
                    unknown.Add(closest is null
                        ? $"{path}:{child.Key}{rest} is not a setting and is ignored (see edgetl-agent config)."
                        : $"{path}:{child.Key}{rest} is not a setting and is ignored; did you mean {path}:{closest}{rest}?");
                }
                continue;
            }
            string key = path + ":" + property.Name;
            var propertyType = property.PropertyType;
            if (IsValue(propertyType))
            {
                foreach (var (_, rest) in Leaves(child, "").Where(l => l.Below.Length > 0))
                    unknown.Add($"{key}{rest} is not a setting and is ignored ({key} is a value, not a section).");
                if (child.Value is { } value && Unreadable(child, propertyType) is { } expected)
                    unreadable[child.Path] = $"{key} '{value}' {expected}.";
            }
            else if (IsCollection(propertyType))
            {
                // Lists and dictionaries take any child key.
            }
            else
            {
                if (!string.IsNullOrEmpty(child.Value))
                    unknown.Add($"{key} is a section, not a value: '{child.Value}' is ignored (set its keys, {key}:…).");
                Walk(child, propertyType, key, unreadable, unknown);
            }
        }
    }

    /// <summary>The leaves (keys with a value) under <paramref name="section"/>, with their path below it.</summary>
    private static IEnumerable<(IConfigurationSection Leaf, string Below)> Leaves(IConfigurationSection section, string rest)
    {
        if (section.Value is not null)
            yield return (section, rest);
        foreach (var child in section.GetChildren())
        {
            foreach (var leaf in Leaves(child, rest + ":" + child.Key))
                yield return leaf;
        }
    }

    /// <summary>Null when the binder reads <paramref name="section"/>'s value as <paramref name="type"/>, else the form expected.</summary>
    private static string? Unreadable(IConfigurationSection section, Type type)
    {
        try
        {
            // The binder's own conversion (its type converters, invariant culture), one value at a time.
            section.Get(type);
            return null;
        }
        catch (InvalidOperationException)
        {
            return Expected(type);
        }
    }

    /// <summary>What a value of <paramref name="type"/> looks like, as the tail of "Agent:Key 'value' …".</summary>
    internal static string Expected(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(TimeSpan))
            return "is not a time span (hh:mm:ss, e.g. 00:01:00)";
        if (t == typeof(bool))
            return "is not a boolean (true or false)";
        if (t.IsEnum)
            return $"is not one of {string.Join(", ", Enum.GetNames(t))}";
        if (t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(byte)
            || t == typeof(uint) || t == typeof(ulong) || t == typeof(ushort) || t == typeof(sbyte))
            return "is not a whole number (e.g. 32)";
        if (t == typeof(double) || t == typeof(float) || t == typeof(decimal))
            return "is not a number (e.g. 0.9, with '.' as the decimal point)";
        return $"cannot be read as {t.Name}";
    }

    /// <summary>The candidate within edit distance 2 of <paramref name="key"/> (ignoring case), the nearest first; null when none is.</summary>
    internal static string? Closest(string key, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = 3;
        foreach (var candidate in candidates)
        {
            int d = Distance(key.ToUpperInvariant(), candidate.ToUpperInvariant());
            if (d < bestDistance)
                (best, bestDistance) = (candidate, d);
        }
        return best;
    }

    /// <summary>Levenshtein distance (insertions, deletions, substitutions).</summary>
    internal static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    /// <summary>Where <paramref name="key"/>'s value comes from: the last source that has it, or <c>default</c>.</summary>
    public static string SourceOf(IConfigurationRoot root, string key)
    {
        ArgumentNullException.ThrowIfNull(root);
        foreach (var provider in root.Providers.Reverse())
        {
            if (!provider.TryGet(key, out _))
                continue;
            return provider switch
            {
                EnvironmentVariablesConfigurationProvider => EnvironmentPrefix + key.Replace(":", "__", StringComparison.Ordinal),
                JsonConfigurationProvider json => json.Source.FileProvider?.GetFileInfo(json.Source.Path ?? "").PhysicalPath ?? json.Source.Path ?? "a JSON file",
                _ => provider.ToString() ?? provider.GetType().Name,
            };
        }
        return "default";
    }

    /// <summary>The properties the binder sets: public, instance, with a public setter (init included).</summary>
    private static IEnumerable<PropertyInfo> Bindable(Type type) =>
        type.GetProperties(Public).Where(p => p.GetIndexParameters().Length == 0 && p.SetMethod is { IsPublic: true });

    /// <summary>A value the binder converts from one string (its type converter reads strings): numbers, TimeSpan, bool, enums, string.</summary>
    private static bool IsValue(Type type) =>
        TypeDescriptor.GetConverter(Nullable.GetUnderlyingType(type) ?? type).CanConvertFrom(typeof(string));

    private static bool IsCollection(Type type) => type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type);
}
