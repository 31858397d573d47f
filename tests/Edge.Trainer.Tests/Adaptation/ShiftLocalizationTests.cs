using EdgeTL.Trainer.Adaptation;
using EdgeTL.Trainer.Experiments;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Models;
using Google.Protobuf;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Adaptation;

/// <summary>
/// Shift localization on a resnet18 pretrained (briefly) on Fashion-MNIST classes 0–4: input-level
/// shifts of the new classes (inverted; noise plus low contrast) peak in the first groups, new
/// classes on clean images in the last ones; the backbone is left bit for bit as it was, and the
/// imported ONNX form of the same network gives the same verdicts.
/// </summary>
[Collection(PretrainedSource.Name)]
public sealed class ShiftLocalizationTests(PretrainedSource source, ITestOutputHelper output)
{
    private static readonly string[] Early = ["stem", "stage1"];
    private static readonly string[] Late = ["stage3", "stage4"];

    [Fact]
    public void Input_level_shifts_peak_early_a_class_shift_peaks_late_and_the_backbone_is_unchanged()
    {
        var model = source.Model;
        {
            var newClasses = TestData.Test.SelectClasses([5, 6, 7, 8, 9]).SamplePerClass(30, 1);
            using var clean = Images(newClasses);
            using var inverted = Images(ShiftExperiment.Apply(ImageShift.Inverted, newClasses, 2));
            using var noisy = Images(ShiftExperiment.Apply(ImageShift.NoiseLowContrast, newClasses, 2));
            using var sourceClasses = Images(TestData.Test.SelectClasses([0, 1, 2, 3, 4]).SamplePerClass(30, 1));
            var before = model.Backbone.Network.buffers().Select(b => b.clone()).ToList();

            var onInverted = ShiftLocalization.Localize(model.Backbone, clean, inverted);
            var onNoise = ShiftLocalization.Localize(model.Backbone, clean, noisy);
            var onClasses = ShiftLocalization.Localize(model.Backbone, sourceClasses, clean);
            output.WriteLine($"inverted: {onInverted.Describe()}\nnoise + low contrast: {onNoise.Describe()}\nclasses 0–4 → 5–9: {onClasses.Describe()}");

            Assert.Equal(["stem", "stage1", "stage2", "stage3", "stage4"], onInverted.Stages.Select(s => s.Stage));
            Assert.Equal(ShiftLevel.Input, onInverted.Level);
            Assert.Contains(onInverted.PeakStage, Early);
            Assert.Equal(ShiftLevel.Input, onNoise.Level);
            Assert.Contains(onNoise.PeakStage, Early);
            Assert.Equal(ShiftLevel.Semantic, onClasses.Level);
            Assert.Contains(onClasses.PeakStage, Late);
            Assert.All(before.Zip(model.Backbone.Network.buffers()), p => Assert.True(p.First.eq(p.Second).all().item<bool>()));

            // The served form of the network, an imported ONNX graph, gives the same verdicts.
            var onnx = OnnxImporter.ImportBackbone(OnnxExporter.Export(model.Backbone.Network, new OnnxExportOptions { TraceInputSize = 32 }).ToByteArray(), "resnet18");
            using (onnx)
            {
                var imported = ShiftLocalization.Localize(onnx, clean, inverted);
                Assert.Equal(onInverted.PeakStage, imported.PeakStage);
                Assert.Equal(onInverted.Stages[0].Mismatch, imported.Stages[0].Mismatch, 0.02 * onInverted.Stages[0].Mismatch);
                Assert.Equal(ShiftLevel.Semantic, ShiftLocalization.Localize(onnx, sourceClasses, clean).Level);
            }

            using var one = clean.narrow(0, 0, 1);
            Assert.Equal(TrainerErrorCode.EmptyDataset, Assert.Throws<EdgeTrainerException>(() => ShiftLocalization.Localize(model.Backbone, one, inverted)).Code);
        }
    }

    [Fact]
    public void The_rule_reads_the_peak_and_decides_a_middle_peak_by_the_larger_end()
    {
        static ShiftReport Of(params double[] m) =>
            ShiftReport.From([.. m.Select((v, i) => new StageShift(i == 0 ? "stem" : $"stage{i}", v, 1))]);
        Assert.Equal(ShiftLevel.Input, Of(3, 1, 1, 1, 1).Level);
        Assert.Equal(ShiftLevel.Input, Of(1, 3, 1, 1, 1).Level);
        Assert.Equal(ShiftLevel.Semantic, Of(1, 1, 1, 3, 1).Level);
        Assert.Equal(ShiftLevel.Semantic, Of(1, 1, 1, 1, 3).Level);
        Assert.Equal(ShiftLevel.Input, Of(2, 1, 3, 0.5, 0.5).Level);
        Assert.Equal(ShiftLevel.Semantic, Of(0.5, 0.5, 3, 1, 2).Level);
        Assert.Equal("stage2", Of(0.5, 0.5, 3, 1, 2).PeakStage);

        // What label-free re-normalization may touch: the runs within the input-level region, or the stem alone.
        Assert.Equal([["stem"], ["stem", "stage1"], ["stage1"]], Of(1, 3, 1, 1, 1).RenormalizationCandidates);
        Assert.Equal([["stem"]], Of(1, 1, 1, 1, 3).RenormalizationCandidates);
    }

    [Fact]
    public void Renormalization_choice_picks_the_fewest_layers_within_a_standard_error_of_the_closest_run_and_leaves_the_backbone_unchanged()
    {
        var model = source.Model;
        var newClasses = TestData.Test.SelectClasses([5, 6, 7, 8, 9]).SamplePerClass(30, 1);
        using var clean = Images(newClasses);
        using var noisy = Images(ShiftExperiment.Apply(ImageShift.NoiseLowContrast, newClasses.SamplePerClass(20, 3), 4));
        var before = model.Backbone.Network.buffers().Select(b => b.clone()).ToList();

        var shift = ShiftLocalization.Localize(model.Backbone, clean, noisy);
        var choice = RenormalizationChoice.Choose(model.Backbone, clean, noisy, shift, seed: 5);
        output.WriteLine($"{shift.Describe()}\nre-normalize {choice.Describe()}");

        Assert.Equal(shift.RenormalizationCandidates, choice.Candidates.Select(c => c.Groups));
        // The one-standard-error rule: within one bootstrap standard error of the smallest gap, the fewest BatchNorm layers.
        var best = choice.Candidates.MinBy(c => c.FeatureGap)!;
        var chosen = choice.Candidates.Single(c => c.Groups.SequenceEqual(choice.Groups));
        Assert.Equal([1, 5, 4], choice.Candidates.Select(c => c.BatchNormLayers));   // resnet18: stem, stem + stage1, stage1
        Assert.All(choice.Candidates, c => Assert.True(c.GapError > 0 && double.IsFinite(c.GapError)));
        Assert.True(chosen.FeatureGap <= best.FeatureGap + best.GapError);
        Assert.DoesNotContain(choice.Candidates, c => c.FeatureGap <= best.FeatureGap + best.GapError && c.BatchNormLayers < chosen.BatchNormLayers);
        Assert.True(choice.Candidates.Min(c => c.FeatureGap) < choice.Unadapted, "re-normalizing the early groups should bring noisy features closer to clean ones");
        Assert.All(before.Zip(model.Backbone.Network.buffers()), p => Assert.True(p.First.eq(p.Second).all().item<bool>()));

        // Measured again, it chooses the same: nothing of the first measurement stayed in the network.
        var again = RenormalizationChoice.Choose(model.Backbone, clean, noisy, shift, seed: 5);
        Assert.Equal(choice.Groups, again.Groups);
        Assert.Equal(choice.Candidates.Select(c => c.FeatureGap), again.Candidates.Select(c => c.FeatureGap));

        using var one = clean.narrow(0, 0, 1);
        Assert.Equal(TrainerErrorCode.EmptyDataset, Assert.Throws<EdgeTrainerException>(() => RenormalizationChoice.Choose(model.Backbone, one, noisy, shift)).Code);
    }

    private static Tensor Images(EdgeTL.Runtime.Data.LabeledImageSet set) =>
        Data.ImageTensorBatches.ForEvaluation(set, TestData.Pipeline(), set.Count).Epoch(0).Single().Inputs;
}
