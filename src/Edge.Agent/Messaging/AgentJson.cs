using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeTL.Agent.Messaging;

/// <summary>Source-generated JSON for what the agent keeps in its store (the wire types are in <see cref="Protocol.Json.ProtocolJson"/>).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EdgeTL.Agent.Hosting.RuntimeSettings))]
public sealed partial class AgentJson : JsonSerializerContext;
