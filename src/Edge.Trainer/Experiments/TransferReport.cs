namespace EdgeTL.Trainer.Experiments;

/// <summary>The outcome of the transfer-gain protocol over every seed, with means.</summary>
public sealed record TransferReport
{
    /// <summary>The protocol's settings.</summary>
    public required TransferExperimentOptions Options { get; init; }
    /// <summary>Source-task accuracy of the pretrained model on held-out source test images.</summary>
    public required double SourceTestAccuracy { get; init; }
    /// <summary>Target test images per evaluation.</summary>
    public required int TargetTestCount { get; init; }
    /// <summary>Per-seed results.</summary>
    public required IReadOnlyList<TransferSeedResult> Seeds { get; init; }

    /// <summary>Mean pretrained head-only accuracy.</summary>
    public double MeanPretrainedHeadOnly => Seeds.Average(s => s.PretrainedHeadOnly);
    /// <summary>Mean random-frozen head-only accuracy.</summary>
    public double MeanRandomFrozenHeadOnly => Seeds.Average(s => s.RandomFrozenHeadOnly);
    /// <summary>Mean from-scratch accuracy.</summary>
    public double MeanScratchFullNetwork => Seeds.Average(s => s.ScratchFullNetwork);
    /// <summary>Mean progressive-unfreezing accuracy (null when skipped).</summary>
    public double? MeanPretrainedProgressive => Seeds.All(s => s.PretrainedProgressive.HasValue) ? Seeds.Average(s => s.PretrainedProgressive!.Value) : null;
    /// <summary>Mean TG against the random frozen backbone.</summary>
    public double MeanGainVsRandomFrozen => Seeds.Average(s => s.GainVsRandomFrozen);
    /// <summary>Mean TG against training from scratch.</summary>
    public double MeanGainVsScratch => Seeds.Average(s => s.GainVsScratch);
}
