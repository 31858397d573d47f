using System.Globalization;
using System.Reflection;

namespace EdgeTL.Agent.Hosting;

/// <summary>
/// One configuration key of the agent (<c>Agent:Broker:Port</c>): the chain of properties it binds
/// to from <see cref="AgentOptions"/>, its type and the default the types give it.
/// </summary>
/// <param name="Path">The key, spelt as the properties are (<c>Agent:Broker:Port</c>).</param>
/// <param name="Properties">The properties from <see cref="AgentOptions"/> down to the value.</param>
internal sealed record SettingKey(string Path, IReadOnlyList<PropertyInfo> Properties)
{
    /// <summary>The value's type (<see cref="Nullable{T}"/> included).</summary>
    public Type Type => Properties[^1].PropertyType;

    /// <summary>The default: the value in a fresh <see cref="AgentOptions"/>.</summary>
    public object? Default => ValueIn(new AgentOptions());

    /// <summary>A secret (a password): never printed.</summary>
    public bool IsSecret => Properties[^1].Name.Contains("Password", StringComparison.OrdinalIgnoreCase);

    /// <summary>The value of this key in <paramref name="options"/>.</summary>
    public object? ValueIn(AgentOptions options)
    {
        object? value = options;
        foreach (var property in Properties)
            value = value is null ? null : property.GetValue(value);
        return value;
    }

    /// <summary>
    /// A value as the configuration writes it (invariant culture): <c>00:01:00</c>, <c>0.9</c>,
    /// <c>true</c>; <c>(unset)</c> for null.
    /// </summary>
    public static string Format(object? value) => value switch
    {
        null => "(unset)",
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
