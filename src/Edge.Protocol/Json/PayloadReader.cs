using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace EdgeTL.Protocol.Json;

/// <summary>
/// Reads a protocol record from JSON and checks the ranges its attributes declare (the same
/// attributes the JSON Schemas are generated from), so a payload is either a valid record or a
/// <see cref="ProtocolException"/> naming the field: <c>args.epochs must be between 1 and 1000.</c>
/// </summary>
public static class PayloadReader
{
    /// <summary>Reads <paramref name="element"/> (null or absent: <paramref name="empty"/>) as a <typeparamref name="T"/>; <paramref name="prefix"/> names it in messages (<c>args</c>).</summary>
    public static T Read<T>(JsonElement? element, JsonTypeInfo<T> type, string prefix, Func<T>? empty = null) where T : class
    {
        ArgumentNullException.ThrowIfNull(type);
        T? value;
        try
        {
            if (element is not { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } json)
            {
                // No args: read as {} so that a command with required arguments names them.
                using var none = JsonDocument.Parse("{}");
                value = empty?.Invoke() ?? none.RootElement.Deserialize(type);
            }
            else
            {
                if (json.ValueKind != JsonValueKind.Object)
                    throw new ProtocolException($"{prefix} must be an object.");
                value = json.Deserialize(type);
            }
        }
        catch (JsonException e)
        {
            throw new ProtocolException(Describe(e, prefix, type), e);
        }
        if (value is null)
            throw new ProtocolException($"{prefix} must be an object.");
        Validate(value, prefix);
        return value;
    }

    /// <summary>Reads UTF-8 <paramref name="utf8"/> as a <typeparamref name="T"/> and checks its declared ranges.</summary>
    public static T ReadUtf8<T>(ReadOnlySpan<byte> utf8, JsonTypeInfo<T> type, string prefix) where T : class
    {
        var value = Deserialize(utf8.ToArray(), type, prefix) ?? throw new ProtocolException($"{prefix} must be an object.");
        Validate(value, prefix);
        return value;
    }

    /// <summary>Throws <see cref="ProtocolException"/> naming the first field whose declared range or allowed values <paramref name="value"/> breaks.</summary>
    public static void Validate(object value, string prefix)
    {
        ArgumentNullException.ThrowIfNull(value);
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true))
        {
            foreach (var nested in value.GetType().GetProperties().Where(p => p.PropertyType.IsClass && p.PropertyType.Namespace == typeof(Commands.CommandEnvelope).Namespace))
            {
                if (nested.GetValue(value) is { } child)
                    Validate(child, $"{prefix}.{JsonNamingPolicy.CamelCase.ConvertName(nested.Name)}");
            }
            return;
        }
        var first = results[0];
        string member = first.MemberNames.FirstOrDefault() ?? "";
        var property = value.GetType().GetProperty(member);
        string wire = property?.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonPropertyNameAttribute), false)
            .Cast<System.Text.Json.Serialization.JsonPropertyNameAttribute>().FirstOrDefault()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(member);
        string rule = property is null ? first.ErrorMessage ?? "is invalid" : RuleOf(property) ?? first.ErrorMessage ?? "is invalid";
        throw new ProtocolException($"{prefix}.{wire} {rule}.");
    }

    private static string? RuleOf(System.Reflection.PropertyInfo property)
    {
        foreach (var attribute in property.GetCustomAttributes(true))
        {
            switch (attribute)
            {
                case RangeAttribute r:
                    return $"must be between {r.Minimum} and {r.Maximum}";
                case AllowedValuesAttribute a:
                    return $"must be one of {string.Join(", ", a.Values.Where(v => v is not null).Select(v => $"'{v}'"))}";
                case LengthAttribute l:
                    return $"must have {l.MinimumLength}–{l.MaximumLength} characters";
                case MinLengthAttribute m:
                    return $"must have at least {m.Length} items";
            }
        }
        return null;
    }

    private static T? Deserialize<T>(byte[] utf8, JsonTypeInfo<T> type, string prefix)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, type);
        }
        catch (JsonException e)
        {
            throw new ProtocolException(Describe(e, prefix, type), e);
        }
    }

    /// <summary>Turns System.Text.Json's message into one that names the field: <c>args.epochs: the JSON value could not be converted…</c>.</summary>
    private static string Describe(JsonException e, string prefix, JsonTypeInfo type)
    {
        string known = string.Join(", ", type.Properties.Select(p => p.Name));
        if (Quoted(e.Message, "The JSON property '") is { } unknown && e.Message.Contains("could not be mapped", StringComparison.Ordinal))
            return $"{prefix}.{unknown} is not a field here (known: {(known.Length == 0 ? "none" : known)}).";
        if (Quoted(e.Message, "missing required properties including: '") is { } missing)
            return $"{prefix}.{missing} is required.";
        string path = e.Path is { Length: > 1 } p && p.StartsWith('$') ? prefix + p[1..] : prefix;
        string message = e.Message;
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0)
            message = message[..cut];
        if (message.Contains("could not be converted to", StringComparison.Ordinal) && message.IndexOf("converted to ", StringComparison.Ordinal) is var at and > 0)
            message = $"has the wrong type (expected {Friendly(message[(at + "converted to ".Length)..].TrimEnd('.'))})";
        return $"{path}: {message}";
    }

    private static string? Quoted(string message, string before)
    {
        int start = message.IndexOf(before, StringComparison.Ordinal);
        if (start < 0)
            return null;
        start += before.Length;
        int end = message.IndexOf('\'', start);
        return end > start ? message[start..end] : null;
    }

    private static string Friendly(string clrType) => clrType switch
    {
        "System.Int32" or "System.Int64" or "System.Nullable`1[System.Int32]" or "System.Nullable`1[System.Int64]" => "an integer",
        "System.Double" or "System.Nullable`1[System.Double]" => "a number",
        "System.String" => "a string",
        "System.Collections.Generic.IReadOnlyList`1[System.String]" => "an array of strings",
        "System.Boolean" or "System.Nullable`1[System.Boolean]" => "true or false",
        "System.Byte[]" => "a base64 string",
        _ when clrType.StartsWith("EdgeTL.", StringComparison.Ordinal) => "an object",
        _ => clrType,
    };
}
