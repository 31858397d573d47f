using EdgeTL.Trainer.Experiments;
using EdgeTL.Trainer.Models;
using Xunit.Abstractions;

using EdgeTL.Trainer.Training;

namespace EdgeTL.Trainer.Tests.Experiments;

/// <summary>
/// The transfer-gain protocol on the bundled Fashion-MNIST: pretrain on classes 0–4, learn 5–9
/// from 20 labelled images per class, three seeds. Real runs, real numbers; whatever the sign.
/// </summary>
public sealed class TransferExperimentTests(ITestOutputHelper output)
{
    [Fact]
    public void Run_FashionMnistTopsToShoes_ReportsGainFromRealRunsAndHeadOnlyReaches75()
    {
        var options = new TransferExperimentOptions();
        var (pretrained, pretrainResult) = SourcePretraining.Run(TestData.Train, TestData.Test, options.Pretrain);
        using (pretrained)
        {
            Assert.True(pretrainResult.Test.Accuracy > 0.8, $"source accuracy {pretrainResult.Test.Accuracy:P1}");
            var report = TransferExperiment.Run(pretrained, pretrainResult.Test.Accuracy, TestData.Train, TestData.Test, options,
                new SyncProgress<string>(output.WriteLine));

            Assert.Equal(3, report.Seeds.Count);
            Assert.Equal(500, report.TargetTestCount);
            foreach (var s in report.Seeds)
            {
                output.WriteLine($"seed {s.Seed}: pretrained {s.PretrainedHeadOnly:P1}, random frozen {s.RandomFrozenHeadOnly:P1}, scratch {s.ScratchFullNetwork:P1}, progressive {s.PretrainedProgressive:P1}, TG {100 * s.GainVsRandomFrozen:+0.0;-0.0} / {100 * s.GainVsScratch:+0.0;-0.0} pt");
                // Every accuracy comes from a real evaluation of 500 images: a multiple of 1/500, above chance.
                foreach (double acc in new[] { s.PretrainedHeadOnly, s.RandomFrozenHeadOnly, s.ScratchFullNetwork, s.PretrainedProgressive!.Value })
                {
                    Assert.InRange(acc, 0.3, 1.0);
                    Assert.Equal(Math.Round(acc * 500), acc * 500, 6);
                }
                Assert.Equal(s.PretrainedHeadOnly - s.RandomFrozenHeadOnly, s.GainVsRandomFrozen, 12);
                Assert.Equal(s.PretrainedHeadOnly - s.ScratchFullNetwork, s.GainVsScratch, 12);
                Assert.True(s.FeatureExtractionSeconds > 0 && s.HeadTrainingSeconds > 0);
            }
            // The two baselines are different runs, not copies of one number.
            Assert.NotEqual(report.Seeds.Select(s => s.RandomFrozenHeadOnly), report.Seeds.Select(s => s.ScratchFullNetwork));
            Assert.Equal(report.Seeds.Average(s => s.GainVsRandomFrozen), report.MeanGainVsRandomFrozen, 12);
            output.WriteLine($"mean: pretrained head-only {report.MeanPretrainedHeadOnly:P1}, TG vs random frozen {100 * report.MeanGainVsRandomFrozen:+0.0;-0.0} pt, TG vs scratch {100 * report.MeanGainVsScratch:+0.0;-0.0} pt, progressive {report.MeanPretrainedProgressive:P1}");
            Assert.True(report.MeanPretrainedHeadOnly >= 0.75, $"head-only mean {report.MeanPretrainedHeadOnly:P1} < 75%");
            Assert.NotNull(report.MeanPretrainedProgressive);
        }
    }
}
