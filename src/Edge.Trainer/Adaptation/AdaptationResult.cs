namespace EdgeTL.Trainer.Adaptation;

/// <summary>
/// The outcome of <see cref="DomainAdaptation.Run"/>: the source-only baseline and the adapted
/// model side by side, the transfer gain, and what the negative-transfer guard decided.
/// </summary>
public sealed record AdaptationResult
{
    /// <summary>The transfer loss used.</summary>
    public required AdaptationMethod Method { get; init; }
    /// <summary>The source-only model's metrics.</summary>
    public required AdaptationRunMetrics Baseline { get; init; }
    /// <summary>The adapted model's metrics.</summary>
    public required AdaptationRunMetrics Adapted { get; init; }
    /// <summary>
    /// Transfer gain, TG = target accuracy with adaptation − without, on the score set when one was
    /// given; else the difference of the guard's score (<see cref="TargetScoreKind"/>).
    /// </summary>
    public double TransferGain => Adapted.TargetAccuracy is { } adapted && Baseline.TargetAccuracy is { } baseline
        ? adapted - baseline
        : Adapted.TargetScore - Baseline.TargetScore;
    /// <summary>What the guard compared (<see cref="AdaptationRunMetrics.TargetScore"/>): "accuracy" on the guard set, or "neg-entropy" (minus the mean prediction entropy on the unlabelled target) without one.</summary>
    public required string TargetScoreKind { get; init; }
    /// <summary>True when adaptation did not beat the baseline on the guard's score by the required margin, so the baseline was kept.</summary>
    public required bool NegativeTransfer { get; init; }
    /// <summary>The model returned: the adapted one, or the baseline when the guard fired.</summary>
    public required AdaptationModel Model { get; init; }
    /// <summary>"adapted" or "baseline".</summary>
    public string Kept => NegativeTransfer ? "baseline" : "adapted";
    /// <summary>Wall time of both runs.</summary>
    public double Seconds { get; init; }
}
