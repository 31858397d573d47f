using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using EdgeTL.Trainer.Training.Precision;
using Google.Protobuf;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Training;

/// <summary>
/// The frozen-prefix cache on the device's trainable module (a resnet18 imported from its ONNX export),
/// trained on real Fashion-MNIST images: the same run as recomputing the prefix, with the prefix computed
/// once per sample and cut.
/// </summary>
public sealed class FrozenPrefixCacheTests
{
    private const int PerClass = 8, Classes = 10, Side = 32;

    [Fact]
    public void A_progressive_run_from_the_cache_follows_the_recomputed_run_and_computes_each_prefix_once_per_sample_and_cut()
    {
        using var rows = ImageRows();
        var (cached, cachedModel) = Run("progressive", rows, cache: true);
        var (recomputed, recomputedModel) = Run("progressive", rows, cache: false);
        using (cachedModel)
        using (recomputedModel)
        {
            // Cuts: the whole backbone (epochs 0–1, head only), stage4 joins at 2, stage3 at 4; the first epoch at each cut fills it.
            Assert.Equal(3L * PerClass * Classes, cached.PrefixCacheHits);
            Assert.Equal(0, recomputed.PrefixCacheHits);
            for (int e = 0; e < cached.Epochs.Count; e++)
                Assert.InRange(Math.Abs(cached.Epochs[e].TrainLoss - recomputed.Epochs[e].TrainLoss), 0, 0.02);
            using var x = rows.Features.view(-1, 3, Side, Side);
            using var noGrad = no_grad();
            cachedModel.SetTrainingMode(false);
            recomputedModel.SetTrainingMode(false);
            using var a = cachedModel.forward(x);
            using var b = recomputedModel.forward(x);
            Assert.True(a.sub(b).abs().max().item<float>() < 0.05f, "the cached run ended far from the recomputed one");
        }
    }

    [Fact]
    public void Frozen_groups_stay_bitwise_as_they_were_and_the_trained_ones_move()
    {
        using var rows = ImageRows();
        using var start = Imported();
        var before = start.Groups.ToDictionary(g => g.Name, g => g.Parameters().Select(p => p.detach().clone()).ToArray());
        var (_, model) = Run("progressive", rows, cache: true);
        using (model)
        {
            foreach (var group in model.Groups.Where(g => g.Name is "stem" or "stage1" or "stage2"))
                Assert.All(group.Parameters().Zip(before[group.Name]), p => Assert.True(TestData.Same(p.First, p.Second), $"{group.Name} changed"));
            Assert.Contains(model.Group("stage4").Parameters().Zip(before["stage4"]), p => !TestData.Same(p.First, p.Second));
        }
    }

    [Fact]
    public void Surgical_caches_only_its_head_phase_and_a_budget_too_small_recomputes_exactly_as_without_a_cache()
    {
        using var rows = ImageRows();
        var (surgical, surgicalModel) = Run("surgical", rows, cache: true);
        surgicalModel.Dispose();
        Assert.Equal((long)PerClass * Classes, surgical.PrefixCacheHits);   // epoch 1 of the head phase; from epoch 2 the stem trains

        var (tight, tightModel) = Run("progressive", rows, cache: true, budgetBytes: 1);
        var (plain, plainModel) = Run("progressive", rows, cache: false);
        tightModel.Dispose();
        plainModel.Dispose();
        Assert.Equal(0, tight.PrefixCacheHits);
        Assert.Equal(plain.Epochs.Select(e => e.TrainLoss), tight.Epochs.Select(e => e.TrainLoss));
    }

    [Fact]
    public void Augmented_batches_and_a_zoo_backbone_get_no_cache()
    {
        using var model = TransferModel.Create("resnet18", Classes, seed: 1);
        using var rows = ImageRows();
        Assert.Null(FrozenPrefixCache.For(model, new ImageRowBatches(rows, 3, Side, 16, shuffle: true, seed: 0), 1L << 30));
        using var imported = Imported();
        Assert.Null(FrozenPrefixCache.For(imported, TestData.Batches(2, 8, augment: true), 1L << 30));
        Assert.NotNull(FrozenPrefixCache.For(imported, new ImageRowBatches(rows, 3, Side, 16, shuffle: true, seed: 0), 1L << 30));
    }

    private static (TrainingResult Result, TransferModel Model) Run(string mode, FeatureSet rows, bool cache, long budgetBytes = 1L << 30)
    {
        var model = Imported();
        var options = BackboneModes.Options(mode, epochs: 6, learningRate: 1e-3, LrScheduleKind.Cosine, seed: 0) with
        {
            CacheFrozenPrefix = cache,
            FrozenPrefixCacheBytes = budgetBytes,
            Precision = PrecisionMode.Fp32,
        };
        var result = new TrainingLoop(options).Fit(model, new ImageRowBatches(rows, 3, Side, 16, shuffle: true, seed: 0));
        return (result, model);
    }

    /// <summary>The device's trainable module: a resnet18 exported to ONNX and imported back, with a fresh seed head.</summary>
    private static TransferModel Imported()
    {
        using var shipped = TransferModel.Create("resnet18", Classes, seed: 4);
        var onnx = OnnxExporter.Export(shipped.Backbone.Network, new OnnxExportOptions { TraceInputSize = Side }).ToByteArray();
        manual_seed(7);
        return new TransferModel(OnnxImporter.ImportBackbone(onnx, "resnet18"), Classes);
    }

    /// <summary>Real test images, <see cref="PerClass"/> of every class, preprocessed and kept as rows [N, 3·32·32].</summary>
    private static FeatureSet ImageRows()
    {
        var set = TestData.Test.SamplePerClass(PerClass, seed: 3);
        var images = new List<Tensor>();
        var labels = new List<Tensor>();
        foreach (var (x, y) in ImageTensorBatches.ForEvaluation(set, TestData.Pipeline(Side), 40).Epoch(0))
        {
            images.Add(x.flatten(1));
            labels.Add(y);
        }
        return new FeatureSet(cat(images), cat(labels), Classes);
    }
}
