using EdgeTL.Trainer.Adaptation;
using EdgeTL.Trainer.Experiments;
using Xunit.Abstractions;

using EdgeTL.Trainer.Training;

namespace EdgeTL.Trainer.Tests.Adaptation;

/// <summary>
/// The short CI version of <c>bench shifts</c> (docs/adaptation.md has the full figures): one seed of
/// the noise plus low-contrast shift on a briefly pretrained resnet18, held-out images only. It checks
/// the directions the full run showed: surgical tuning with a few shifted labels recovers far above
/// source-only and keeps the clean accuracy; label-free bn gains at least 5 points; re-normalizing only
/// the early groups it chooses (RenormalizationChoice) beats re-normalizing every group.
/// </summary>
[Collection(PretrainedSource.Name)]
public sealed class ShiftRecoveryTests(PretrainedSource source, ITestOutputHelper output)
{
    [Fact]
    public void On_noisy_low_contrast_images_surgical_recovers_and_localized_bn_beats_bn_everywhere()
    {
        var options = new ShiftExperimentOptions
        {
            Shift = ImageShift.NoiseLowContrast,
            Pretrain = source.Options,
            Seeds = [0],
            TestPerClass = 40,
            HeadEpochs = 150,
            FinetuneEpochs = 9,
            Methods = ["source-only", "bn", "bn-all", "surgical"],
        };
        var report = ShiftExperiment.Run(source.Model, TestData.Train, TestData.Test, options, new SyncProgress<string>(output.WriteLine));

        double sourceOnly = report.MeanShifted("source-only"), surgical = report.MeanShifted("surgical");
        output.WriteLine($"source accuracy {source.SourceAccuracy:P1}; shifted: source-only {sourceOnly:P1}, bn {report.MeanShifted("bn"):P1}, " +
            $"bn-all {report.MeanShifted("bn-all"):P1}, surgical {surgical:P1}; clean: source-only {report.MeanClean("source-only"):P1}, surgical {report.MeanClean("surgical"):P1}");
        Assert.Equal(200, report.ShiftedTestCount);
        Assert.Equal(ShiftLevel.Input, report.Seeds[0].Localization.Level);
        Assert.True(surgical >= sourceOnly + 0.10, $"surgical {surgical:P1} against source-only {sourceOnly:P1}");
        Assert.True(report.MeanClean("surgical") >= report.MeanClean("source-only") - 0.05, "surgical tuning lost the clean images");
        Assert.True(report.MeanShifted("bn") >= sourceOnly + 0.05, $"label-free bn {report.MeanShifted("bn"):P1} against source-only {sourceOnly:P1}");
        Assert.True(report.MeanShifted("bn") > report.MeanShifted("bn-all"), "re-normalizing the chosen early groups should beat re-normalizing every group");
        Assert.All(report.Seeds[0].Methods, m => Assert.Equal(20, m.HoldoutCorrect.Length));
        // bn reads no target label, so the labelled shifted training images judge it too; surgical trained on them, so they may not.
        var bn = report.Seeds[0].Methods.Single(m => m.Method == "bn");
        var surgicalRun = report.Seeds[0].Methods.Single(m => m.Method == "surgical");
        Assert.Equal(20 + bn.ShiftedTrainCorrect.Length, bn.GuardCorrect.Length);
        Assert.True(bn.ShiftedTrainCorrect.Length > 0);
        Assert.Equal(surgicalRun.HoldoutCorrect, surgicalRun.GuardCorrect);
    }
}
