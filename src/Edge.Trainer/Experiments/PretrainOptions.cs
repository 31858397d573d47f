using EdgeTL.Trainer.Training;

namespace EdgeTL.Trainer.Experiments;

/// <summary>Pretraining a backbone from scratch on a class subset of a labelled image set.</summary>
public sealed record PretrainOptions
{
    /// <summary>Zoo architecture.</summary>
    public string Architecture { get; init; } = "resnet18";
    /// <summary>Classes of the source task (renumbered 0..k−1).</summary>
    public IReadOnlyList<int> Classes { get; init; } = [0, 1, 2, 3, 4];
    /// <summary>Model input side.</summary>
    public int InputSize { get; init; } = 32;
    /// <summary>Epochs.</summary>
    public int Epochs { get; init; } = 6;
    /// <summary>Batch size.</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>Learning rate of every group (from scratch, so no discriminative rates).</summary>
    public double LearningRate { get; init; } = 2e-3;
    /// <summary>Seed of initialization, shuffling and augmentation.</summary>
    public int Seed { get; init; }
    /// <summary>Where the trained transfer model's weights are written (backbone + head).</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Trainer settings implied by these options.</summary>
    public TrainerOptions ToTrainerOptions() => new()
    {
        Epochs = Epochs,
        LearningRates = new LearningRatePolicy { BaseLearningRate = LearningRate, HeadMultiplier = 1.0 },
        WeightDecay = 5e-4,
        Schedule = LrScheduleKind.Cosine,
        CheckpointPath = CheckpointPath,
        RestoreBest = true,
        Seed = Seed,
    };
}
