namespace EdgeTL.Runtime.Onnx;

/// <summary>How inference sessions are created on a device.</summary>
public sealed record SessionOptionsSpec
{
    /// <summary>Providers to try, in order; the first that loads wins, and the CPU is always the last resort.</summary>
    public IReadOnlyList<ExecutionProvider> Providers { get; init; } = [ExecutionProvider.TensorRt, ExecutionProvider.Cuda, ExecutionProvider.Cpu];

    /// <summary>Threads inside one operator; 0 lets ONNX Runtime choose (one per core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>ONNX Runtime's graph optimization level: 0 none, 1 basic, 2 extended, 3 all.</summary>
    public int GraphOptimizationLevel { get; init; } = 3;

    /// <summary>GPU to use.</summary>
    public int DeviceId { get; init; }

    /// <summary>Folder where TensorRT keeps built engines, so a restart does not rebuild them; null disables the cache.</summary>
    public string? TensorRtEngineCache { get; init; }

    /// <summary>Batches run once after loading, so the first real request is not the slow one.</summary>
    public int WarmupRuns { get; init; } = 1;

    /// <summary>Batch size of the warm-up runs.</summary>
    public int WarmupBatch { get; init; } = 1;
}
