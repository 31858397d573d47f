namespace EdgeTL.Protocol.Payloads;

/// <summary>
/// The result of <c>finetune</c> (and the <c>training-outcome</c> metric): the run, how the candidate
/// and the serving head compared on held-out samples neither trained on, and whether it was promoted.
/// </summary>
/// <param name="Mode"><c>head-only</c>, <c>progressive</c> or <c>surgical</c>.</param>
/// <param name="Epochs">Epochs run.</param>
/// <param name="TrainSamples">Samples trained on.</param>
/// <param name="HoldoutSamples">Samples of the fixed holdout (by sample id; never trained on).</param>
/// <param name="Accuracy">The candidate's accuracy (on <see cref="AccuracyOn"/>).</param>
/// <param name="AccuracyOn"><c>holdout</c> or <c>train</c> (too few samples to hold any out).</param>
/// <param name="ComparedOn">Held-out samples both heads were scored on (n; the serving head never trained on them); 0 for a first head.</param>
/// <param name="CandidateAccuracy">The candidate's accuracy on those.</param>
/// <param name="BaselineAccuracy">The serving head's accuracy on those.</param>
/// <param name="Promoted">Whether the candidate now serves.</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="Curve">Every epoch.</param>
/// <param name="HeadId">The new head, when promoted.</param>
/// <param name="Code">The error code when the run diverged.</param>
/// <param name="Reason">The promotion guard's decision (or why the run failed), for people.</param>
/// <param name="LowerBound">The guard's one-sided 95 % lower bound on candidate − serving accuracy (null when not computed).</param>
/// <param name="Guard">The promotion guard's whole check (null when the run failed before it).</param>
/// <param name="Backbone">For <c>progressive</c> and <c>surgical</c>: what was trained, and the device-made version when promoted.</param>
public sealed record TrainingReport(string Mode, int Epochs, int TrainSamples, int HoldoutSamples, double? Accuracy, string? AccuracyOn, int ComparedOn,
    double? CandidateAccuracy, double? BaselineAccuracy, bool Promoted, double Seconds, IReadOnlyList<TrainingPoint> Curve,
    long? HeadId = null, string? Code = null, string? Reason = null, double? LowerBound = null, PromotionCheck? Guard = null, BackboneReport? Backbone = null);
