namespace EdgeTL.Protocol.Payloads;

/// <summary>
/// Where a domain shift shows in the served backbone (<c>adapt method=auto</c>): per layer group, the
/// mismatch of its BatchNorm input statistics between the labelled source samples and the target
/// domain's samples, the group where it peaks, the verdict, and what the device chose.
/// </summary>
/// <param name="Stages">Per layer group (stem, stage1 … stage4), in network order.</param>
/// <param name="PeakStage">The group with the largest mismatch.</param>
/// <param name="Level"><c>input</c> (peak in the first two groups: the images changed) or <c>semantic</c> (the last two: the content changed).</param>
/// <param name="Method">The label-free method run: <c>bn</c> for an input-level shift, the drift policy's head method (<c>dann</c> or <c>mmd</c>) for a semantic one.</param>
/// <param name="WithLabels">The backbone fine-tune to send once labelled target samples arrive: <c>surgical</c> or <c>progressive</c>.</param>
/// <param name="Renormalized">
/// The layer groups <c>bn</c> and <c>tent</c> re-normalize: for an input-level shift, the contiguous run of groups within the
/// first two chosen from <paramref name="Candidates"/> by the one-standard-error rule; the first group alone otherwise.
/// </param>
/// <param name="Candidates">
/// Each run of groups tried, the first with none (the backbone as it serves), and its feature gap: the squared distance
/// between the mean target and mean source feature after it, divided by the features' summed pooled variance. Of the runs whose
/// gap is within one bootstrap standard error of the smallest, the one that re-estimates the fewest BatchNorm layers is
/// re-normalized (none is listed for comparison, not chosen).
/// </param>
public sealed record ShiftSummary(IReadOnlyList<StageMismatch> Stages, string PeakStage, string Level, string Method, string WithLabels, IReadOnlyList<string> Renormalized,
    IReadOnlyList<RenormalizationGap>? Candidates = null);

/// <summary>One set of layer groups re-normalized on the target, and how far the target's features then are from the source's (smaller is closer).</summary>
/// <param name="Groups">The layer groups (empty: none).</param>
/// <param name="FeatureGap">The feature gap after re-normalizing them.</param>
/// <param name="BatchNormLayers">How many BatchNorm layers they hold (0 for none).</param>
/// <param name="GapError">The bootstrap standard error of the gap (images resampled on both sides; absent for none).</param>
public sealed record RenormalizationGap(IReadOnlyList<string> Groups, double FeatureGap, int BatchNormLayers = 0, double? GapError = null);

/// <summary>One layer group's mismatch: the mean symmetric KL divergence per channel between the source and target BatchNorm input statistics.</summary>
public sealed record StageMismatch(string Stage, double Mismatch, int Layers);
