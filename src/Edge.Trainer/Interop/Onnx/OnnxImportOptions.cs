namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>How an ONNX graph becomes a trainable module.</summary>
public sealed record OnnxImportOptions
{
    /// <summary>Lowest opset the importer reads.</summary>
    public const int MinOpset = 8;

    /// <summary>Highest opset the importer reads.</summary>
    public const int MaxOpset = 17;

    /// <summary>The value to output; null means the graph's first output (or, for a backbone, its pooled features).</summary>
    public string? OutputName { get; init; }

    /// <summary>Input side used to find the layer groups when the graph's height and width are dynamic (≥ 64).</summary>
    public int ProbeSize { get; init; } = 64;

    /// <summary>
    /// Optional layer-group rules, tried in order before the structural rule: a node whose name
    /// matches the regular expression goes to the group (stem, stage1…stage4, classifier).
    /// </summary>
    public IReadOnlyList<(string Group, string NodeNamePattern)> GroupPatterns { get; init; } = [];

    /// <summary>Name reported as the architecture; null takes the graph's name.</summary>
    public string? Name { get; init; }
}
