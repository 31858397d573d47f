namespace EdgeTL.Demo;

/// <summary>What the demo measured; every value was read from a message the agent published.</summary>
public sealed record DemoSummary
{
    /// <summary>Accuracy of the pretrained backbone + head on its own source classes (held-out test images).</summary>
    public required double PretrainSourceAccuracy { get; init; }
    /// <summary>Seconds from the deploy command's success to the first head serving (cold start).</summary>
    public required double SecondsToFirstModel { get; init; }
    /// <summary>Labelled samples per class the cold start had.</summary>
    public required int ColdStartShots { get; init; }
    /// <summary>Accuracy on held-out new-class images right after cold start (predict commands).</summary>
    public required double ColdStartAccuracy { get; init; }
    /// <summary>Accuracy on the same held-out images after the head-only fine-tune.</summary>
    public required double FinetunedAccuracy { get; init; }
    /// <summary>Held-out accuracy on the new classes after the progressive fine-tune of the backbone on the device (what serves then).</summary>
    public required double ProgressiveAccuracy { get; init; }
    /// <summary>"promoted" or "not promoted" (the promotion guard's decision).</summary>
    public required string ProgressiveOutcome { get; init; }
    /// <summary>Accuracy on held-out shifted images before adaptation (predict commands).</summary>
    public required double ShiftedAccuracyBefore { get; init; }
    /// <summary>Accuracy on the same shifted images after the automatic adaptation.</summary>
    public required double ShiftedAccuracyAfter { get; init; }
    /// <summary>Where the agent localized the shift, and what that chose (from the adaptation report).</summary>
    public required string ShiftLocalization { get; init; }
    /// <summary>The label-free method the automatic adaptation ran.</summary>
    public required string LabelFreeMethod { get; init; }
    /// <summary>Accuracy on the shifted held-out images after the surgical fine-tune (or what still serves when the guard refused it).</summary>
    public required double SurgicalShiftedAccuracy { get; init; }
    /// <summary>Accuracy on the clean held-out images after the surgical fine-tune.</summary>
    public required double SurgicalCleanAccuracy { get; init; }
    /// <summary>The guard's decision on the surgical fine-tune, with n and the bound.</summary>
    public required string SurgicalOutcome { get; init; }
    /// <summary>Seconds from the drift event to the first promoted adapted model (label-free or surgical), or null when none was promoted.</summary>
    public double? SecondsFromDriftToPromotion { get; init; }
    /// <summary>The adaptation's transfer gain (target score adapted − source-only, as the agent reported it).</summary>
    public required double TransferGain { get; init; }
    /// <summary>What the transfer gain is measured in ("accuracy" with labelled target rows, else a proxy).</summary>
    public required string TransferGainKind { get; init; }
    /// <summary>Source–target MMD² of the features before adaptation.</summary>
    public required double Mmd2Before { get; init; }
    /// <summary>Source–target MMD² after adaptation.</summary>
    public required double Mmd2After { get; init; }
    /// <summary>Drift test p-value on the shifted window.</summary>
    public required double DriftPValue { get; init; }
    /// <summary>"promoted" or "rolled-back".</summary>
    public required string AdaptationOutcome { get; init; }
    /// <summary>Wall-clock seconds of the whole demo.</summary>
    public required double TotalSeconds { get; init; }
}
