using EdgeTL.Trainer.Adaptation;
using EdgeTL.Trainer.Data;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Adaptation;

/// <summary>
/// <see cref="DomainAdaptation.Run"/> as a caller meets it: one baseline for every method run on
/// the same data and seed, a guard set that cannot be the score set, and a thread setting. Small
/// synthetic features (three Gaussian classes, a shifted target), so each run takes a second.
/// </summary>
public sealed class AdaptationApiTests
{
    private const int Dim = 16;

    [Fact]
    public void Dann_and_mmd_runs_of_different_lengths_are_compared_with_one_and_the_same_baseline()
    {
        var (source, target, guard, score) = Domains();
        var common = new AdaptationOptions { BaselineSteps = 60, BatchSize = 32, Threads = 1, Seed = 3 };
        var mmd = DomainAdaptation.Run(source, target, score, common with { Method = AdaptationMethod.Mmd, Steps = 40 }, targetGuard: guard);
        var dann = DomainAdaptation.Run(source, target, score, common with { Method = AdaptationMethod.Dann, Steps = 90, DomainHidden = 32 }, targetGuard: guard);
        Assert.Equal(mmd.Baseline.TargetAccuracy, dann.Baseline.TargetAccuracy);
        Assert.Equal(mmd.Baseline.TargetScore, dann.Baseline.TargetScore);
        Assert.Equal(mmd.Baseline.SourceAccuracy, dann.Baseline.SourceAccuracy);
        Assert.Equal(mmd.Baseline.Mmd2, dann.Baseline.Mmd2);
        Assert.Equal(60, mmd.Baseline.Curve[^1].Step);   // the baseline ran BaselineSteps, not the method's Steps
        Assert.Equal(40, mmd.Adapted.Curve[^1].Step);
        Assert.Equal(90, dann.Adapted.Curve[^1].Step);
        mmd.Model.Dispose();
        dann.Model.Dispose();
    }

    [Fact]
    public void The_guard_decides_on_its_own_set_and_the_score_set_only_scores()
    {
        var (source, target, guard, score) = Domains();
        var result = DomainAdaptation.Run(source, target, score, new AdaptationOptions { Method = AdaptationMethod.Mmd, Steps = 40, BaselineSteps = 40, BatchSize = 32, Threads = 1 }, targetGuard: guard);
        Assert.Equal("accuracy", result.TargetScoreKind);
        Assert.Equal(!(result.Adapted.TargetScore - result.Baseline.TargetScore > 0), result.NegativeTransfer);
        Assert.Equal(result.Adapted.TargetAccuracy!.Value - result.Baseline.TargetAccuracy!.Value, result.TransferGain, 12);
        // The kept model scores, on the guard set, what the guard saw.
        using (no_grad())
        {
            result.Model.eval();
            double onGuard = result.Model.forward(guard.Features).argmax(1).eq(guard.Labels).to(ScalarType.Float32).mean().item<float>();
            Assert.Equal(result.NegativeTransfer ? result.Baseline.TargetScore : result.Adapted.TargetScore, onGuard, 6);
        }
        result.Model.Dispose();

        // Without a guard set the guard uses the unlabelled proxy; the score set still scores.
        var unguarded = DomainAdaptation.Run(source, target, score, new AdaptationOptions { Method = AdaptationMethod.Mmd, Steps = 40, BaselineSteps = 40, BatchSize = 32, Threads = 1 });
        Assert.Equal("neg-entropy", unguarded.TargetScoreKind);
        Assert.True(unguarded.Adapted.TargetScore <= 0);   // minus an entropy
        Assert.NotNull(unguarded.Adapted.TargetAccuracy);
        unguarded.Model.Dispose();
    }

    [Fact]
    public void The_score_set_passed_as_the_guard_set_is_refused()
    {
        var (source, target, _, score) = Domains();
        var options = new AdaptationOptions { Steps = 5, BaselineSteps = 5, BatchSize = 8 };
        var same = Assert.Throws<EdgeTrainerException>(() => DomainAdaptation.Run(source, target, score, options, targetGuard: score));
        Assert.Equal(TrainerErrorCode.InvalidConfiguration, same.Code);
        Assert.Contains("same rows", same.Message, StringComparison.Ordinal);
        using var copy = new FeatureSet(score.Features.clone(), score.Labels.clone(), score.ClassCount);
        Assert.Equal(TrainerErrorCode.InvalidConfiguration,
            Assert.Throws<EdgeTrainerException>(() => DomainAdaptation.Run(source, target, score, options, targetGuard: copy)).Code);
    }

    [Fact]
    public void Threads_apply_for_the_run_and_are_restored_and_bad_counts_are_refused()
    {
        var (source, target, guard, _) = Domains();
        int before = get_num_threads();
        var result = DomainAdaptation.Run(source, target, null, new AdaptationOptions { Steps = 10, BaselineSteps = 10, BatchSize = 16, Threads = 1 }, targetGuard: guard);
        Assert.Equal(before, get_num_threads());
        result.Model.Dispose();
        Assert.Equal(TrainerErrorCode.InvalidConfiguration,
            Assert.Throws<EdgeTrainerException>(() => DomainAdaptation.Run(source, target, null, new AdaptationOptions { Threads = 0 })).Code);
        Assert.Equal(TrainerErrorCode.InvalidConfiguration,
            Assert.Throws<EdgeTrainerException>(() => DomainAdaptation.Run(source, target, null, new AdaptationOptions { BaselineSteps = 0 })).Code);
    }

    /// <summary>Three classes around fixed centres; the target is the same classes shifted and rescaled. Guard and score are disjoint target rows.</summary>
    private static (FeatureSet Source, Tensor Target, FeatureSet Guard, FeatureSet Score) Domains()
    {
        var generator = new TorchSharp.torch.Generator(11);
        var centres = randn([3, Dim], generator: generator) * 3;
        FeatureSet Draw(int perClass, bool shifted)
        {
            var labels = arange(3, ScalarType.Int64).repeat_interleave(perClass);
            var rows = centres.index_select(0, labels) + randn([3 * perClass, Dim], generator: generator);
            if (shifted)
                rows = (rows * 1.5) + 2;
            return new FeatureSet(rows.relu(), labels, 3);   // non-negative, like ReLU backbone features
        }
        var source = Draw(60, shifted: false);
        using var targetTrain = Draw(60, shifted: true);
        return (source, targetTrain.Features.clone(), Draw(30, shifted: true), Draw(30, shifted: true));
    }
}
