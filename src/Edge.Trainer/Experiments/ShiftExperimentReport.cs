using EdgeTL.Trainer.Adaptation;

namespace EdgeTL.Trainer.Experiments;

/// <summary>One method in one seed: accuracy on the shifted and the clean test images, and right or wrong per holdout image (what a guard pairs).</summary>
public sealed record ShiftMethodResult(string Method, bool UsesTargetLabels, double ShiftedAccuracy, double CleanAccuracy, bool[] HoldoutCorrect, double Seconds);

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
