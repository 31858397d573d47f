using EdgeTL.Trainer.Training;

namespace EdgeTL.Cloud;

/// <summary>The machine-readable result of <c>pretrain --json</c>.</summary>
internal sealed record PretrainSummary(
    string Architecture,
    IReadOnlyList<int> Classes,
    double TestAccuracy,
    IReadOnlyList<double> PerClassAccuracy,
    int BestEpoch,
    double Seconds,
    string? Checkpoint,
    IReadOnlyList<EpochMetrics> Epochs);
