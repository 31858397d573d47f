namespace EdgeTL.Trainer.Experiments;

/// <summary>
/// The transfer-gain protocol: pretrain on source classes, then learn the target classes from a
/// few labelled images per class, with and without the pretrained backbone.
/// </summary>
public sealed record TransferExperimentOptions
{
    /// <summary>How the source backbone is pretrained (architecture, source classes, input size).</summary>
    public PretrainOptions Pretrain { get; init; } = new();
    /// <summary>Target classes (renumbered 0..k−1).</summary>
    public IReadOnlyList<int> TargetClasses { get; init; } = [5, 6, 7, 8, 9];
    /// <summary>Labelled target images per class.</summary>
    public int ShotsPerClass { get; init; } = 20;
    /// <summary>Seeds; each draws its own shots, heads and random backbones. Results are averaged.</summary>
    public IReadOnlyList<int> Seeds { get; init; } = [0, 1, 2];
    /// <summary>Epochs of head-only training on cached features (cheap: the head trains to convergence).</summary>
    public int HeadEpochs { get; init; } = 500;
    /// <summary>Head learning rate (AdamW) on cached features.</summary>
    public double HeadLearningRate { get; init; } = 1e-3;
    /// <summary>Epochs of the from-scratch baseline (whole network, few images).</summary>
    public int ScratchEpochs { get; init; } = 30;
    /// <summary>Epochs of progressive unfreezing (seed preset: stage4 at 5, stage3 at 10).</summary>
    public int ProgressiveEpochs { get; init; } = 15;
    /// <summary>Backbone base rate of progressive unfreezing (head gets 10×).</summary>
    public double ProgressiveLearningRate { get; init; } = 3e-4;
    /// <summary>Run the progressive-unfreezing variant too.</summary>
    public bool IncludeProgressive { get; init; } = true;
}
