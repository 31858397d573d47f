namespace EdgeTL.Trainer.Adaptation;

/// <summary>
/// How one model (source-only or adapted) does: accuracies, the MMD² between source and target
/// aligned features, and class separation (CID) of the target features (of the source's when the
/// target has no labels). <c>TargetAccuracy</c> is on the score set; <c>TargetScore</c> is what
/// the negative-transfer guard compared (accuracy on the guard set, or the unlabelled proxy).
/// </summary>
public sealed record AdaptationRunMetrics(double SourceAccuracy, double? TargetAccuracy, double TargetScore, double Mmd2, double Cid,
    IReadOnlyList<AdaptationCurvePoint> Curve);
