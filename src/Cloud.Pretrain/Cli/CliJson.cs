using System.Text.Json.Serialization;
using EdgeTL.Trainer.Experiments;

namespace EdgeTL.Cloud;

/// <summary>Source-generated JSON for the CLI's machine output (<c>--json</c>).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PretrainSummary))]
[JsonSerializable(typeof(TransferReport))]
[JsonSerializable(typeof(ImportSummary))]
[JsonSerializable(typeof(ExportSummary))]
[JsonSerializable(typeof(KeySummary))]
[JsonSerializable(typeof(PackageSummary))]
[JsonSerializable(typeof(VerifyResult))]
[JsonSerializable(typeof(MetaPretrainSummary))]
[JsonSerializable(typeof(PublishReport))]
[JsonSerializable(typeof(FleetStatusReport))]
[JsonSerializable(typeof(TrainSummary))]
[JsonSerializable(typeof(EvaluationSummary))]
[JsonSerializable(typeof(QuantizeSummary))]
internal sealed partial class CliJson : JsonSerializerContext;
