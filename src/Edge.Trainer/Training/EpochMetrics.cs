namespace EdgeTL.Trainer.Training;

/// <summary>
/// One point of a run's curves. Source validation and target validation are kept apart, so the
/// two loss curves can be watched together during adaptation.
/// </summary>
public sealed record EpochMetrics
{
    /// <summary>0-based epoch.</summary>
    public required int Epoch { get; init; }
    /// <summary>Mean training loss.</summary>
    public required double TrainLoss { get; init; }
    /// <summary>Training accuracy (in training mode, with augmentation).</summary>
    public required double TrainAccuracy { get; init; }
    /// <summary>Source validation loss, when a validation set was given.</summary>
    public double? ValidationLoss { get; init; }
    /// <summary>Source validation accuracy.</summary>
    public double? ValidationAccuracy { get; init; }
    /// <summary>Target-domain validation loss, when a target set was given.</summary>
    public double? TargetLoss { get; init; }
    /// <summary>Target-domain validation accuracy.</summary>
    public double? TargetAccuracy { get; init; }
    /// <summary>Groups that trained in this epoch.</summary>
    public required IReadOnlyList<string> TrainableGroups { get; init; }
    /// <summary>Learning rate of each trainable group in this epoch.</summary>
    public required IReadOnlyDictionary<string, double> LearningRates { get; init; }
    /// <summary>Wall time of the epoch.</summary>
    public required double Seconds { get; init; }
}
