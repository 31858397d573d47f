using System.Text.Json.Serialization;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Cloud;

/// <summary>Reads manifests and signature files with the settings Edge.Runtime writes them with.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(ModelManifest))]
[JsonSerializable(typeof(SignatureFile))]
internal sealed partial class ManifestJson : JsonSerializerContext;
