namespace EdgeTL.Cloud;

/// <summary>Parameters of one layer group.</summary>
internal sealed record GroupSummary(string Name, long Parameters);

/// <summary>The machine-readable result of <c>import --json</c>.</summary>
internal sealed record ImportSummary(
    string Source,
    string Format,
    string Architecture,
    int? Opset,
    int FeatureDim,
    int? FixedInputSize,
    long Parameters,
    IReadOnlyList<GroupSummary> Groups,
    int LoadedTensors,
    IReadOnlyList<string> SkippedKeys,
    double MaxAbsDifferenceVsOnnxRuntime,
    string WeightsPath,
    string OnnxPath,
    string Pixels = ImportFolder.ImageNetPixels);

/// <summary>One file written by <c>export-onnx</c>, with its check in ONNX Runtime.</summary>
internal sealed record ExportedFile(string Path, long Bytes, bool Float16, double MaxAbsDifference, double OutputScale);

/// <summary>The machine-readable result of <c>export-onnx --json</c>.</summary>
internal sealed record ExportSummary(string Architecture, string Part, int Opset, int Classes, string Weights, IReadOnlyList<ExportedFile> Files, string? Head = null);
