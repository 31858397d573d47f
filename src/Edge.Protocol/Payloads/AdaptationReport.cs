namespace EdgeTL.Protocol.Payloads;

/// <summary>The result of <c>adapt</c> (and the <c>adaptation</c> metric): before and after on the target, MMD² and class separation, and the outcome.</summary>
/// <param name="Job">The command or automatic job id.</param>
/// <param name="Method"><c>dann</c>, <c>mmd</c> (the head's features), <c>bn</c> or <c>tent</c> (the backbone, label-free); after <c>auto</c>, the method it chose.</param>
/// <param name="Steps">Optimizer steps (for <c>bn</c>: the target batches its statistics were averaged over).</param>
/// <param name="SourceSamples">Labelled source samples trained on (the train part of the fixed holdout split).</param>
/// <param name="TargetSamples">Target samples.</param>
/// <param name="TargetScoreKind">What the target score is: labelled target accuracy, or a label-free proxy.</param>
/// <param name="BaselineTargetScore">Target score before.</param>
/// <param name="AdaptedTargetScore">Target score after.</param>
/// <param name="TransferGain">After minus before.</param>
/// <param name="Mmd2Before">MMD² between domains before.</param>
/// <param name="Mmd2After">MMD² after.</param>
/// <param name="CidBefore">Class separation (CID) before.</param>
/// <param name="CidAfter">CID after.</param>
/// <param name="Kept">What the run kept: <c>adapted</c> or <c>baseline</c> (negative transfer: then nothing is promoted).</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="Curve">Logged steps.</param>
/// <param name="Outcome"><c>promoted</c> or <c>rolled-back</c>.</param>
/// <param name="HeadId">The new head, when promoted.</param>
/// <param name="Shift">For <c>method=auto</c>: where the shift was localized and what that chose.</param>
/// <param name="Backbone">For <c>bn</c> and <c>tent</c>: what changed in the backbone and the device-made version it installed.</param>
/// <param name="Guard">The promotion guard's check of the kept model against the serving head (n, both accuracies, the bound, the reason).</param>
public sealed record AdaptationReport(string Job, string Method, int Steps, int SourceSamples, int TargetSamples, string TargetScoreKind,
    double BaselineTargetScore, double AdaptedTargetScore, double TransferGain, double Mmd2Before, double Mmd2After, double? CidBefore, double? CidAfter,
    string Kept, double Seconds, IReadOnlyList<AdaptationPoint> Curve, string Outcome, long? HeadId = null, PromotionCheck? Guard = null, BackboneReport? Backbone = null, ShiftSummary? Shift = null);
