namespace EdgeTL.Protocol.Payloads;

/// <summary>
/// What a backbone fine-tune (<c>progressive</c>, <c>surgical</c>) trained and, when promoted, the
/// device-made model version it installed.
/// </summary>
/// <param name="TrainedGroups">Layer groups that trained (the head included), in the order they joined.</param>
/// <param name="FrozenGroups">Layer groups left exactly as they were.</param>
/// <param name="ParentCounter">Counter of the package the backbone came from.</param>
/// <param name="ParentVersion">Version of the model the backbone came from.</param>
/// <param name="ModelVersion">The device-made version now served, or null when not promoted.</param>
/// <param name="OnnxMaxAbsDifference">Largest |Δ| between the trained module and its ONNX export in ONNX Runtime (features and logits), or null when not exported.</param>
/// <param name="OnnxCheckedOn">Real images that comparison ran on.</param>
/// <param name="Precision">When the parent carried an int8 backbone: the device-made backbone re-quantized from the device's samples, and which backbone serves.</param>
public sealed record BackboneReport(IReadOnlyList<string> TrainedGroups, IReadOnlyList<string> FrozenGroups, long ParentCounter, string ParentVersion,
    string? ModelVersion, double? OnnxMaxAbsDifference, int OnnxCheckedOn, PrecisionChoice? Precision = null);
