namespace EdgeTL.Runtime.Onnx;

/// <summary>How an <see cref="OnnxModel"/> session runs on the CPU.</summary>
public sealed record OnnxModelOptions
{
    /// <summary>Threads inside one operator; 0 lets ONNX Runtime choose (one per core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Apply ONNX Runtime's graph optimizations (fusions, constant folding). Default on.</summary>
    public bool OptimizeGraph { get; init; } = true;
}
