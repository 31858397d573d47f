using System.Globalization;
using System.Text.Json;

namespace EdgeTL.Agent.Commands;

/// <summary>
/// Typed reads of a command's <c>args</c> object. A missing required field or a wrong type
/// throws <see cref="InvalidCommandArgumentsException"/>, which the dispatcher turns into an
/// <see cref="CommandStatus.InvalidArguments"/> result naming the field.
/// </summary>
public sealed class CommandArgs
{
    private readonly JsonElement? _args;

    /// <summary>Wraps <paramref name="args"/> (null: no arguments).</summary>
    public CommandArgs(JsonElement? args) => _args = args;

    /// <summary>True when <paramref name="name"/> is present and not null.</summary>
    public bool Has(string name) => _args is { } a && a.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>A required string.</summary>
    public string Text(string name) => OptionalString(name) ?? throw Missing(name, "a string");

    /// <summary>An optional string.</summary>
    public string? OptionalString(string name)
    {
        if (!TryGet(name, out var v))
            return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(name, "a string");
    }

    /// <summary>An optional integer within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int WholeNumber(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        if (!TryGet(name, out var v))
            return fallback;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int value) || value < min || value > max)
            throw Wrong(name, $"an integer in [{min}, {max}]");
        return value;
    }

    /// <summary>An optional finite number.</summary>
    public double Number(string name, double fallback)
    {
        if (!TryGet(name, out var v))
            return fallback;
        if (v.ValueKind != JsonValueKind.Number || !double.IsFinite(v.GetDouble()))
            throw Wrong(name, "a finite number");
        return v.GetDouble();
    }

    /// <summary>An optional boolean.</summary>
    public bool Bool(string name, bool fallback)
    {
        if (!TryGet(name, out var v))
            return fallback;
        return v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw Wrong(name, "true or false") };
    }

    /// <summary>A required base64 byte string.</summary>
    public byte[] Base64(string name)
    {
        string text = Text(name);
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw Wrong(name, "base64");
        }
    }

    /// <summary>An optional array of strings.</summary>
    public IReadOnlyList<string>? Strings(string name)
    {
        if (!TryGet(name, out var v))
            return null;
        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            throw Wrong(name, "an array of strings");
        return [.. v.EnumerateArray().Select(e => e.GetString()!)];
    }

    /// <summary>An optional nested object.</summary>
    public CommandArgs? Section(string name)
    {
        if (!TryGet(name, out var v))
            return null;
        return v.ValueKind == JsonValueKind.Object ? new CommandArgs(v) : throw Wrong(name, "an object");
    }

    private bool TryGet(string name, out JsonElement value)
    {
        value = default;
        return _args is { } a && a.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
    }

    private static InvalidCommandArgumentsException Missing(string name, string what) => new($"args.{name} is required ({what}).");

    private static InvalidCommandArgumentsException Wrong(string name, string what) => new($"args.{name} must be {what}.");
}
