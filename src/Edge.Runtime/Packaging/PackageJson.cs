using System.Text.Json.Serialization;

namespace EdgeTL.Runtime.Packaging;

/// <summary>The detached signature file: which key, which algorithm, the signature bytes.</summary>
public sealed record SignatureFile(string KeyId, string Algorithm, string Signature);

/// <summary>Source-generated JSON for manifests and signatures.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(ModelManifest))]
[JsonSerializable(typeof(SignatureFile))]
internal sealed partial class PackageJson : JsonSerializerContext;
