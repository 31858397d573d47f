namespace EdgeTL.Trainer.Adaptation;

/// <summary>
/// Settings of Tent (Wang et al., ICLR 2021): entropy minimization on the BatchNorm affine
/// parameters only, with batch statistics. The defaults are the paper's CIFAR setting scaled to
/// a device's few hundred target images: Adam at 1e-3, batches of 32.
/// </summary>
public sealed record TentOptions
{
    /// <summary>Optimizer steps, one target batch each.</summary>
    public int Steps { get; init; } = 20;
    /// <summary>Target images per step.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Adam rate of the BatchNorm scales and shifts.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Layer groups whose BatchNorm layers adapt (null: all).</summary>
    public IReadOnlyList<string>? Groups { get; init; }
    /// <summary>Seed of the batch order.</summary>
    public int Seed { get; init; }
}
