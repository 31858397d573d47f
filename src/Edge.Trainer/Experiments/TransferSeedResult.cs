namespace EdgeTL.Trainer.Experiments;

/// <summary>
/// Target-test accuracies of one seed. TG (transfer gain) = accuracy with the pretrained
/// backbone − accuracy of the same head and data without it.
/// </summary>
public sealed record TransferSeedResult
{
    /// <summary>The seed.</summary>
    public required int Seed { get; init; }
    /// <summary>Head-only on cached features of the pretrained, frozen backbone.</summary>
    public required double PretrainedHeadOnly { get; init; }
    /// <summary>Head-only on cached features of a randomly initialized, frozen backbone (baseline 1).</summary>
    public required double RandomFrozenHeadOnly { get; init; }
    /// <summary>The whole network trained from scratch on the same few images (baseline 2).</summary>
    public required double ScratchFullNetwork { get; init; }
    /// <summary>Pretrained backbone, head-only warm-up then stage4 and stage3 unfrozen (null when skipped).</summary>
    public double? PretrainedProgressive { get; init; }
    /// <summary>TG against baseline 1: pretrained head-only − random-frozen head-only.</summary>
    public double GainVsRandomFrozen => PretrainedHeadOnly - RandomFrozenHeadOnly;
    /// <summary>TG against baseline 2: pretrained head-only − whole network from scratch.</summary>
    public double GainVsScratch => PretrainedHeadOnly - ScratchFullNetwork;
    /// <summary>Seconds spent extracting features of the pretrained backbone (train + test images).</summary>
    public required double FeatureExtractionSeconds { get; init; }
    /// <summary>Seconds of head-only training on the cached features.</summary>
    public required double HeadTrainingSeconds { get; init; }
}
