using EdgeTL.Trainer.Adaptation;

namespace EdgeTL.Trainer.Experiments;

/// <summary>
/// One method in one seed: accuracy on the shifted and the clean test images, right or wrong per holdout image (what a guard
/// pairs), and right or wrong per labelled shifted training image (never seen by the methods that read no target label, so their guard pairs those too).
/// </summary>
public sealed record ShiftMethodResult(string Method, bool UsesTargetLabels, double ShiftedAccuracy, double CleanAccuracy, bool[] HoldoutCorrect, bool[] ShiftedTrainCorrect,
    double Seconds)
{
    /// <summary>
    /// The rows the agent's guard judges this method on: the holdout; for a method that reads no target label (<c>mmd</c> and <c>dann</c>
    /// align the head to the unlabelled target images, <c>bn</c>, <c>bn-all</c> and <c>tent</c> adapt the backbone on them: <c>adapt</c> on
    /// the device) also the labelled shifted training images, whose labels it never read and whose images it never saw.
    /// </summary>
    public bool[] GuardCorrect => JudgedOnEveryUnseenLabel ? [.. HoldoutCorrect, .. ShiftedTrainCorrect] : HoldoutCorrect;

    /// <summary>Whether the guard may also judge it on the labelled shifted training images (<see cref="GuardCorrect"/>): it reads no target label.</summary>
    public bool JudgedOnEveryUnseenLabel => !UsesTargetLabels;
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
