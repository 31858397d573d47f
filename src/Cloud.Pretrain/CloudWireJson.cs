using System.Text.Json.Serialization;

namespace EdgeTL.Cloud;

/// <summary>Source-generated JSON for what the cloud puts on the wire (compact, camelCase).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(DesiredState))]
internal sealed partial class CloudWireJson : JsonSerializerContext;
