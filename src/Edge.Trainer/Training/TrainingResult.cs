namespace EdgeTL.Trainer.Training;

/// <summary>What a training run did: its curves and where it ended.</summary>
public sealed record TrainingResult
{
    /// <summary>Per-epoch metrics, in order.</summary>
    public required IReadOnlyList<EpochMetrics> Epochs { get; init; }
    /// <summary>Epoch whose weights the model holds at the end.</summary>
    public required int BestEpoch { get; init; }
    /// <summary>True when early stopping ended the run.</summary>
    public required bool StoppedEarly { get; init; }
    /// <summary>Optimizer steps taken.</summary>
    public required long Steps { get; init; }
    /// <summary>Checkpoint written, if any.</summary>
    public string? CheckpointPath { get; init; }
    /// <summary>The compute type the run used.</summary>
    public string ComputeType { get; init; } = "Float32";
    /// <summary>Optimizer steps skipped for inf/NaN gradients (fp16 loss scaling).</summary>
    public long SkippedSteps { get; init; }
    /// <summary>The loss scale at the end (fp16), else null.</summary>
    public double? FinalLossScale { get; init; }
    /// <summary>Samples whose frozen prefix came from the cache instead of being recomputed (<see cref="TrainerOptions.CacheFrozenPrefix"/>).</summary>
    public long PrefixCacheHits { get; init; }
    /// <summary>Total wall time.</summary>
    public required double Seconds { get; init; }

    /// <summary>Metrics of <see cref="BestEpoch"/>.</summary>
    public EpochMetrics Best => Epochs.First(e => e.Epoch == BestEpoch);
}
