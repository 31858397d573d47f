using EdgeTL.Trainer.Metrics;
using EdgeTL.Trainer.Training;

namespace EdgeTL.Trainer.Experiments;

/// <summary>What pretraining produced: curves, held-out accuracy and the checkpoint.</summary>
public sealed record PretrainResult(PretrainOptions Options, TrainingResult Training, ClassificationReport Test, IReadOnlyList<string> ClassNames);
