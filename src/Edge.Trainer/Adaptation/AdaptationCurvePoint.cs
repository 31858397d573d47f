namespace EdgeTL.Trainer.Adaptation;

/// <summary>
/// One point of an adaptation run's curves: source and target loss and accuracy side by side
/// (target values need target labels), with the transfer loss, its weight and the GRL coefficient.
/// </summary>
public sealed record AdaptationCurvePoint(int Step, double SourceLoss, double SourceAccuracy, double? TargetLoss, double? TargetAccuracy,
    double TransferLoss, double Weight, double Reversal);
