namespace EdgeTL.Runtime.Onnx;

/// <summary>How an <see cref="OnnxModel"/> session runs on the CPU.</summary>
public sealed record OnnxModelOptions
{
    /// <summary>Threads inside one operator; 0 lets ONNX Runtime choose (one per core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// Let idle intra-op threads spin (ONNX Runtime's default) instead of blocking. Spinning saves
    /// microseconds per operator on an idle machine; on a busy one a spinning thread holds a core
    /// that the rest of the work needs, so shared machines should turn it off.
    /// </summary>
    public bool AllowSpinning { get; init; } = true;

    /// <summary>Apply ONNX Runtime's graph optimizations (fusions, constant folding). Default on.</summary>
    public bool OptimizeGraph { get; init; } = true;
}
