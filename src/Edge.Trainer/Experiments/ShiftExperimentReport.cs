using EdgeTL.Trainer.Adaptation;

namespace EdgeTL.Trainer.Experiments;

/// <summary>
/// One method in one seed: accuracy on the shifted and the clean test images, right or wrong per holdout image (what a guard
/// pairs), and right or wrong per labelled shifted training image (unseen by a method that uses no target labels, so a guard may pair those too).
/// </summary>
public sealed record ShiftMethodResult(string Method, bool UsesTargetLabels, double ShiftedAccuracy, double CleanAccuracy, bool[] HoldoutCorrect, bool[] ShiftedTrainCorrect,
    double Seconds)
{
    /// <summary>
    /// The rows a guard may judge this method on: the holdout, and for a method that used no target labels also the labelled
    /// shifted training images (it never saw their labels, and the label-free methods adapt on the unlabelled images only).
    /// </summary>
    public bool[] GuardCorrect => UsesTargetLabels ? HoldoutCorrect : [.. HoldoutCorrect, .. ShiftedTrainCorrect];
}

/// <summary>One seed: every method, and where the shift was localized.</summary>
public sealed record ShiftSeedResult(int Seed, IReadOnlyList<ShiftMethodResult> Methods, ShiftReport Localization);

/// <summary>The whole run: test set sizes, per seed results, and the mean per method.</summary>
public sealed record ShiftExperimentReport(ImageShift Shift, int ShiftedTestCount, int CleanTestCount, IReadOnlyList<ShiftSeedResult> Seeds)
{
    /// <summary>The methods, in the order they ran.</summary>
    public IReadOnlyList<string> Methods => [.. Seeds[0].Methods.Select(m => m.Method)];

    /// <summary>Mean shifted-test accuracy of <paramref name="method"/> over the seeds.</summary>
    public double MeanShifted(string method) => Seeds.Average(s => s.Methods.Single(m => m.Method == method).ShiftedAccuracy);

    /// <summary>Mean clean-test accuracy of <paramref name="method"/> over the seeds.</summary>
    public double MeanClean(string method) => Seeds.Average(s => s.Methods.Single(m => m.Method == method).CleanAccuracy);
}
