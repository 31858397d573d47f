using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace EdgeTL.Agent.Messaging;

/// <summary>Source-generated JSON for result data built as <see cref="JsonObject"/>.</summary>
[JsonSerializable(typeof(JsonObject))]
public sealed partial class AgentJsonNodes : JsonSerializerContext;
