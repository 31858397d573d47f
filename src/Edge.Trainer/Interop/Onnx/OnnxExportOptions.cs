namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>How a module is written as ONNX.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Lowest opset the exporter writes.</summary>
    public const int MinOpset = 13;

    /// <summary>Highest opset the exporter writes.</summary>
    public const int MaxOpset = 17;

    /// <summary>ONNX opset, 13 to 17. At 14 and above Hardswish is written as <c>HardSwish</c>.</summary>
    public int Opset { get; init; } = 17;

    /// <summary>Write weights as float16 (I/O stays float32, with Cast nodes at both ends), for GPU serving.</summary>
    public bool Float16 { get; init; }

    /// <summary>Input side used to trace shapes and check each block's export; the file itself accepts any side unless <see cref="FixedInputSize"/>.</summary>
    public int TraceInputSize { get; init; } = 64;

    /// <summary>Fix height and width to <see cref="TraceInputSize"/> instead of dynamic axes.</summary>
    public bool FixedInputSize { get; init; }

    /// <summary>Name of the graph input.</summary>
    public string InputName { get; init; } = "input";

    /// <summary>Name of the graph output.</summary>
    public string OutputName { get; init; } = "output";

    /// <summary>Model name written into the graph.</summary>
    public string? GraphName { get; init; }
}
