using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Payloads;

namespace EdgeTL.Protocol.Json;

/// <summary>
/// JSON Schemas (draft 2020-12) of the protocol, generated from its records by System.Text.Json's
/// <see cref="JsonSchemaExporter"/>; descriptions, ranges and allowed values come from the same
/// attributes <see cref="PayloadReader"/> enforces. <c>docs/protocol/*.schema.json</c> are these, written out.
/// </summary>
public static class ProtocolSchemas
{
    /// <summary>Every schema by file name: <c>envelope</c>, <c>result</c>, <c>state</c>, <c>metric</c>, <c>cmd.{name}.args</c>, <c>metric.{kind}.data</c>, and each result record <c>result.{Record}</c>.</summary>
    public static IReadOnlyDictionary<string, JsonNode> All()
    {
        var schemas = new SortedDictionary<string, JsonNode>(StringComparer.Ordinal)
        {
            ["envelope"] = For(typeof(CommandEnvelope)),
            ["result"] = For(typeof(CommandResult)),
            ["state"] = For(typeof(DeviceState)),
            ["metric"] = For(typeof(MetricMessage)),
            ["desired-state"] = For(typeof(DesiredState)),
        };
        foreach (var (name, type) in CommandNames.ArgumentTypes)
            schemas[$"cmd.{name}.args"] = For(type);
        foreach (var (kind, type) in MetricKinds.DataTypes)
            schemas[$"metric.{kind}.data"] = For(type);
        foreach (var type in ResultDataTypes)
            schemas[$"result.{type.Name}"] = For(type);
        return schemas;
    }

    /// <summary>The records a result's <c>data</c> can be, beside the metric records.</summary>
    public static IReadOnlyList<Type> ResultDataTypes { get; } =
    [
        typeof(StatusReport), typeof(RollbackReport), typeof(IngestReport), typeof(Prediction), typeof(DeviceSettings),
        typeof(DuplicateReport), typeof(InterruptedReport), typeof(ErrorReport), typeof(DeferredReport),
    ];

    /// <summary>The schema of protocol record <paramref name="type"/>.</summary>
    public static JsonNode For(Type type)
    {
        var options = new JsonSchemaExporterOptions { TreatNullObliviousAsNonNullable = true, TransformSchemaNode = Annotate };
        var schema = ProtocolJson.Default.Options.GetJsonSchemaAsNode(type, options);
        if (schema is JsonObject root)
        {
            var ordered = new JsonObject
            {
                ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
                ["title"] = type.Name,
            };
            foreach (var (key, value) in root.ToList())
            {
                root.Remove(key);
                ordered[key] = value;
            }
            return ordered;
        }
        return schema;
    }

    private static JsonNode Annotate(JsonSchemaExporterContext context, JsonNode schema)
    {
        if (schema is not JsonObject node || context.PropertyInfo?.AttributeProvider is not { } provider)
            return schema;
        foreach (var attribute in provider.GetCustomAttributes(true))
        {
            switch (attribute)
            {
                case DescriptionAttribute d:
                    node["description"] = d.Description;
                    break;
                case RangeAttribute r:
                    node["minimum"] = JsonValue.Create(Convert.ToDouble(r.Minimum, System.Globalization.CultureInfo.InvariantCulture));
                    node["maximum"] = JsonValue.Create(Convert.ToDouble(r.Maximum, System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case AllowedValuesAttribute a:
                    node["enum"] = new JsonArray([.. a.Values.Select(v => v is null ? null : (JsonNode)JsonValue.Create(v.ToString()!))]);
                    break;
                case LengthAttribute l:
                    node["minLength"] = l.MinimumLength;
                    node["maxLength"] = l.MaximumLength;
                    break;
                case MinLengthAttribute m when context.PropertyInfo.PropertyType != typeof(byte[]):
                    node["minItems"] = m.Length;
                    break;
                case MinLengthAttribute:
                    node["minLength"] = 1;
                    break;
            }
        }
        return node;
    }
}
