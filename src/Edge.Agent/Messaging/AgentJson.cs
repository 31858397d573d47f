using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeTL.Agent.Commands;

namespace EdgeTL.Agent.Messaging;

/// <summary>Source-generated JSON for what the agent publishes (camelCase, enums as strings).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CommandResult))]
[JsonSerializable(typeof(EdgeTL.Agent.Hosting.RuntimeSettings))]
public sealed partial class AgentJson : JsonSerializerContext;
