namespace EdgeTL.Protocol.Payloads;

/// <summary>One epoch of a training curve.</summary>
public sealed record TrainingPoint(int Epoch, double TrainLoss, double TrainAccuracy, double Seconds);
