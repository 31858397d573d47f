using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Payloads;

namespace EdgeTL.Protocol.Json;

/// <summary>
/// Source-generated JSON for every protocol type: camelCase names, status codes as camelCase
/// strings, nulls written out (every field is always present), unknown members refused (a misspelt argument is an error, not a default).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, NumberHandling = JsonNumberHandling.Strict, RespectNullableAnnotations = true, AllowOutOfOrderMetadataProperties = true)]
[JsonSerializable(typeof(CommandEnvelope))]
[JsonSerializable(typeof(CommandResult))]
[JsonSerializable(typeof(StatusArgs))]
[JsonSerializable(typeof(DeployArgs))]
[JsonSerializable(typeof(RollbackArgs))]
[JsonSerializable(typeof(IngestArgs))]
[JsonSerializable(typeof(LabelArgs))]
[JsonSerializable(typeof(FinetuneArgs))]
[JsonSerializable(typeof(AdaptArgs))]
[JsonSerializable(typeof(EvaluateArgs))]
[JsonSerializable(typeof(PredictArgs))]
[JsonSerializable(typeof(SetConfigArgs))]
[JsonSerializable(typeof(CancelArgs))]
[JsonSerializable(typeof(DeviceState))]
[JsonSerializable(typeof(DeploymentRef))]
[JsonSerializable(typeof(StatusReport))]
[JsonSerializable(typeof(DeploymentReport))]
[JsonSerializable(typeof(PrecisionChoice))]
[JsonSerializable(typeof(RollbackReport))]
[JsonSerializable(typeof(IngestReport))]
[JsonSerializable(typeof(Prediction))]
[JsonSerializable(typeof(EvaluationReport))]
[JsonSerializable(typeof(TrainingProgress))]
[JsonSerializable(typeof(TrainingReport))]
[JsonSerializable(typeof(ColdStartReport))]
[JsonSerializable(typeof(AdaptationReport))]
[JsonSerializable(typeof(DriftEvent))]
[JsonSerializable(typeof(PredictionEvent))]
[JsonSerializable(typeof(AgentEvent))]
[JsonSerializable(typeof(DeferredReport))]
[JsonSerializable(typeof(InterruptedReport))]
[JsonSerializable(typeof(DuplicateReport))]
[JsonSerializable(typeof(ErrorReport))]
[JsonSerializable(typeof(SystemHealth))]
[JsonSerializable(typeof(DeviceSettings))]
[JsonSerializable(typeof(DesiredState))]
[JsonSerializable(typeof(MetricMessage))]
public sealed partial class ProtocolJson : JsonSerializerContext;
