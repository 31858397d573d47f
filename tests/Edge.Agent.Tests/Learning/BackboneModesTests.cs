using EdgeTL.Agent.Learning;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;

namespace EdgeTL.Agent.Tests.Learning;

/// <summary>What each backbone mode trains, when each group joins, and at which rate.</summary>
public sealed class BackboneModesTests
{
    [Theory]
    [InlineData("progressive", 6, "2:stage4 4:stage3")]
    [InlineData("progressive", 3, "1:stage4 2:stage3")]
    [InlineData("progressive", 15, "5:stage4 10:stage3")]
    [InlineData("progressive", 40, "5:stage4 10:stage3")]
    [InlineData("surgical", 6, "2:stem,stage1")]
    [InlineData("surgical", 30, "5:stem,stage1")]
    public void The_head_trains_alone_first_then_the_groups_of_the_mode_join(string mode, int epochs, string expected)
    {
        var schedule = BackboneModes.Schedule(mode, epochs);

        Assert.Equal(expected, Describe(schedule));
        Assert.Equal(BackboneModes.TrainedGroups(mode).Skip(1).Order(), schedule.Steps.SelectMany(s => s.Groups).Order());
        Assert.All(schedule.Steps, s => Assert.InRange(s.Epoch, 1, epochs - 1));
    }

    [Fact]
    public void Fewer_epochs_than_a_warm_up_and_a_stage_and_other_modes_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BackboneModes.Schedule("progressive", BackboneModes.MinimumEpochs - 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => BackboneModes.Schedule("head-only", 10));
        Assert.Contains(new FinetuneSettings { Mode = "surgical", Epochs = 2 }.Problems(), p => p.Contains("at least 3 epochs", StringComparison.Ordinal));
        Assert.Empty(new FinetuneSettings { Mode = "surgical", Epochs = 3 }.Problems());
    }

    [Theory]
    [InlineData("progressive", 0.1)]
    [InlineData("surgical", 1.0)]
    public void The_head_trains_at_the_jobs_rate_progressive_stages_at_a_tenth_surgical_stages_at_the_same_and_only_surgical_reestimates_statistics(
        string mode, double stageFraction)
    {
        using var model = TransferModel.Create("resnet18", classes: 5, seed: 1);
        var options = BackboneTuning.Options(new FinetuneSettings { Mode = mode, Epochs = 6, LearningRate = 2e-3 });

        Assert.Equal(2e-3, options.LearningRates.RateFor(model.Group("head"), model.Groups), 12);
        foreach (var name in BackboneModes.TrainedGroups(mode).Skip(1))
            Assert.Equal(2e-3 * stageFraction, options.LearningRates.RateFor(model.Group(name), model.Groups), 12);
        Assert.Equal(mode != "surgical", options.FreezeBatchNormStatistics);
        Assert.Equal(Trainer.Training.Precision.PrecisionMode.Auto, options.Precision);
        Assert.Equal(HeadFitting.DivergenceFactor, options.DivergenceFactor);
        Assert.Equal(Describe(BackboneModes.Schedule(mode, 6)), Describe(options.Unfreeze!));
    }

    private static string Describe(Trainer.Training.UnfreezeSchedule schedule) =>
        string.Join(' ', schedule.Steps.Select(s => $"{s.Epoch}:{string.Join(',', s.Groups)}"));
}
