namespace EdgeTL.Protocol.Payloads;

/// <summary>
/// The <c>training</c> metric: progress of a running job, sent at most every
/// <c>Agent:TrainingMetricsInterval</c> (and for the last epoch); the full curve is in the final result.
/// </summary>
public sealed record TrainingProgress(string Job, int Epoch, int Epochs, double TrainLoss, double TrainAccuracy, double Seconds);
