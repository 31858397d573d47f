using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeTL.Agent.Commands;

namespace EdgeTL.Agent.Messaging;

/// <summary>Source-generated JSON for what the agent publishes (camelCase names and status codes).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Converters = [typeof(CommandStatusJsonConverter)])]
[JsonSerializable(typeof(CommandResult))]
[JsonSerializable(typeof(EdgeTL.Agent.Hosting.RuntimeSettings))]
public sealed partial class AgentJson : JsonSerializerContext;
