namespace EdgeTL.Protocol.Payloads;

/// <summary>One logged step of an adaptation run: source and target curves watched together.</summary>
public sealed record AdaptationPoint(int Step, double SourceLoss, double SourceAccuracy, double? TargetLoss, double? TargetAccuracy, double TransferLoss, double Weight, double Reversal);
