using EdgeTL.Trainer.Experiments;

namespace EdgeTL.Cloud;

/// <summary>What <c>train</c> writes to <c>report.json</c> and prints with <c>--json</c>: every accuracy on the validation images.</summary>
internal sealed record TrainSummary(
    string Data,
    string SplitBy,
    IReadOnlyList<string> Classes,
    int TrainImages,
    int ValidationImages,
    IReadOnlyList<string> Skipped,
    string Architecture,
    string? Weights,
    int InputSize,
    double HeadOnlyAccuracy,
    double? ProgressiveAccuracy,
    string Kept,
    double Accuracy,
    IReadOnlyList<double> PerClassAccuracy,
    int[][] Confusion,
    double Mmd2TrainValidation,
    double CidValidation,
    string Checkpoint,
    double Seconds)
{
    /// <summary>The import folder the run started from, when it did.</summary>
    public string? ImportFolder { get; init; }

    /// <summary>The zoo architecture of the <c>--baseline</c> run (randomly initialized, frozen), when one ran.</summary>
    public string? BaselineArchitecture { get; init; }

    /// <summary>Head-only accuracy on that random frozen backbone, on the same validation images.</summary>
    public double? BaselineAccuracy { get; init; }

    /// <summary>Transfer gain: <see cref="Accuracy"/> minus <see cref="BaselineAccuracy"/>.</summary>
    public double? TransferGain { get; init; }

    /// <summary>The pixels the model takes: imagenet (normalized) or raw (0–255).</summary>
    public string Pixels { get; init; } = EdgeTL.Cloud.ImportFolder.ImageNetPixels;

    public static TrainSummary Create(FolderTrainingReport report, string data, string splitBy, IReadOnlyList<string> skipped, string architecture,
        string? weights, int inputSize, string checkpoint)
    {
        int classes = report.ClassNames.Count;
        var confusion = Enumerable.Range(0, classes).Select(t => Enumerable.Range(0, classes).Select(p => report.Final.Confusion[t, p]).ToArray()).ToArray();
        return new TrainSummary(data, splitBy, report.ClassNames, report.TrainCount, report.ValidationCount, skipped, architecture, weights, inputSize,
            report.HeadOnlyAccuracy, report.ProgressiveAccuracy, report.Kept, report.Final.Accuracy, report.Final.PerClassAccuracy, confusion,
            report.Mmd2TrainValidation, report.CidValidation, checkpoint, report.Seconds);
    }
}
