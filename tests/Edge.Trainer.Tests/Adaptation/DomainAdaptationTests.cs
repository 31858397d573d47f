using EdgeTL.Trainer.Adaptation;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Tests.Interop;
using EdgeTL.Trainer.Visualization;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Adaptation;

/// <summary>
/// Domain adaptation on real data. Source: the bundled Fashion-MNIST training images. Target: a
/// shifted Fashion-MNIST with inverted intensities (255 − value; dark garments on a light
/// background), whose labels are never used for training. Features: the frozen ImageNet ResNet-18.
/// </summary>
public sealed class DomainAdaptationTests(ITestOutputHelper output)
{
    private static readonly Lazy<(FeatureSet Source, FeatureSet TargetTrain, FeatureSet TargetTest)> Shifted = new(() =>
    {
        var source = TestData.Train.SamplePerClass(60, seed: 0);
        var targetTrain = ImageNetFeatures.Inverted(TestData.Train.SamplePerClass(60, seed: 1));
        var targetTest = ImageNetFeatures.Inverted(TestData.Test.SamplePerClass(40, seed: 2));
        return (ImageNetFeatures.Extract(source), ImageNetFeatures.Extract(targetTrain), ImageNetFeatures.Extract(targetTest));
    });

    [Fact]
    public void Mmd_adaptation_beats_source_only_on_the_inverted_target_and_lowers_mmd()
    {
        var (rows, baseline, adapted) = ThreeSeeds("MMD", new AdaptationOptions { Method = AdaptationMethod.Mmd });
        Assert.True(adapted >= baseline + 0.05, $"MMD {adapted:P1} vs source-only {baseline:P1}");
        Assert.All(rows, r => Assert.True(r.Adapted.Mmd2 < r.Baseline.Mmd2, $"MMD² {r.Baseline.Mmd2:F4} → {r.Adapted.Mmd2:F4}"));
        Assert.All(rows, r => Assert.False(r.NegativeTransfer));
    }

    [Fact]
    public void Dann_beats_source_only_on_the_inverted_target_and_lowers_mmd()
    {
        var (rows, baseline, adapted) = ThreeSeeds("DANN", AdaptationOptions.DannRecipe);
        Assert.True(adapted >= baseline + 0.05, $"DANN {adapted:P1} vs source-only {baseline:P1}");
        Assert.All(rows, r => Assert.True(r.Adapted.Mmd2 < r.Baseline.Mmd2, $"MMD² {r.Baseline.Mmd2:F4} → {r.Adapted.Mmd2:F4}"));
    }

    /// <summary>Runs <paramref name="options"/> with seeds 0–2, prints each run, and returns the runs and the mean target accuracies.</summary>
    private (List<AdaptationResult> Rows, double Baseline, double Adapted) ThreeSeeds(string name, AdaptationOptions options)
    {
        var (source, targetTrain, targetTest) = Shifted.Value;
        var rows = new List<AdaptationResult>();
        for (int seed = 0; seed < 3; seed++)
        {
            var result = DomainAdaptation.Run(source, targetTrain.Features, targetTest, options with { Seed = seed, Threads = 1 });
            output.WriteLine(Describe($"{name} seed {seed}", result));
            rows.Add(result);
            result.Model.Dispose();
        }
        double baseline = rows.Average(r => r.Baseline.TargetAccuracy!.Value);
        double adapted = rows.Average(r => r.Adapted.TargetAccuracy!.Value);
        output.WriteLine($"mean of 3 seeds: source-only {baseline:P1}, {name} {adapted:P1}, TG {(adapted - baseline) * 100:F1} pt");
        return (rows, baseline, adapted);
    }

    [Fact]
    public void A_dann_run_reports_gain_mmd_cid_and_source_and_target_curves()
    {
        var (source, targetTrain, targetTest) = Shifted.Value;
        var result = DomainAdaptation.Run(source, targetTrain.Features, targetTest, new AdaptationOptions { Method = AdaptationMethod.Dann, Seed = 0, Threads = 1 });
        output.WriteLine(Describe("DANN seed 0", result));
        Assert.Equal(result.Adapted.TargetAccuracy!.Value - result.Baseline.TargetAccuracy!.Value, result.TransferGain, 9);
        // No guard set: the guard compared the unlabelled proxy; the test rows only scored.
        Assert.Equal("neg-entropy", result.TargetScoreKind);
        Assert.Equal(!(result.Adapted.TargetScore - result.Baseline.TargetScore > 0), result.NegativeTransfer);
        Assert.True(double.IsFinite(result.Adapted.Mmd2) && double.IsFinite(result.Adapted.Cid) && double.IsFinite(result.Baseline.Cid));
        var curve = result.Adapted.Curve;
        Assert.Equal(20, curve.Count);
        Assert.All(curve, p => Assert.True(p.TargetAccuracy is not null && p.TargetLoss is not null && double.IsFinite(p.SourceLoss)));
        Assert.All(curve, p => Assert.InRange(p.Weight, 0.5, 1.0));   // the dynamic weight: sigmoid of a non-negative distance
        Assert.True(curve.Zip(curve.Skip(1)).All(pair => pair.Second.Reversal > pair.First.Reversal), "λ follows Ganin's rising schedule");
        Assert.All(result.Baseline.Curve, p => Assert.Equal(0, p.TransferLoss));
        result.Model.Dispose();
    }

    private static string Describe(string name, AdaptationResult r) =>
        $"{name}: source-only target {r.Baseline.TargetAccuracy:P1}, adapted target {r.Adapted.TargetAccuracy:P1} (TG {r.TransferGain * 100:F1} pt); "
        + $"MMD² {r.Baseline.Mmd2:F4} → {r.Adapted.Mmd2:F4}; target CID {r.Baseline.Cid:F3} → {r.Adapted.Cid:F3}; "
        + $"source {r.Baseline.SourceAccuracy:P1} → {r.Adapted.SourceAccuracy:P1}; kept {r.Kept}; {r.Seconds:F1} s";

    [Fact]
    public void An_unrelated_target_triggers_the_negative_transfer_guard_and_the_baseline_is_kept()
    {
        var (source, _, _) = Shifted.Value;
        // Unrelated: Gaussian noise "features" with labels that have nothing to do with them. The guard set
        // (400 rows) and the score set (200) are disjoint; on random labels two models differ there by chance
        // (about 2 points of standard deviation), so adaptation must win by 5 points to be kept.
        manual_seed(5);
        var noise = randn(600, source.Dim).abs() * source.Features.mean().item<float>() * 3;
        using var unrelated = new FeatureSet(randn(400, source.Dim).abs() * source.Features.mean().item<float>() * 3, randint(0, 10, [400]), 10);
        using var scored = new FeatureSet(randn(200, source.Dim).abs() * source.Features.mean().item<float>() * 3, randint(0, 10, [200]), 10);
        var result = DomainAdaptation.Run(source, noise, scored, new AdaptationOptions { Method = AdaptationMethod.Dann, Steps = 300, Seed = 0, Threads = 1, MinimumGain = 0.05 }, targetGuard: unrelated);
        output.WriteLine($"unrelated target: source-only {result.Baseline.TargetAccuracy:P1}, DANN {result.Adapted.TargetAccuracy:P1}, "
            + $"TG {result.TransferGain * 100:F1} pt, source {result.Baseline.SourceAccuracy:P1} → {result.Adapted.SourceAccuracy:P1}; kept {result.Kept}");
        Assert.True(result.NegativeTransfer);
        Assert.Equal("baseline", result.Kept);
        // The returned model is the baseline: on the guard set it scores what the guard saw of the baseline.
        using var noGrad = no_grad();
        result.Model.eval();
        double accuracy = result.Model.forward(unrelated.Features).argmax(1).eq(unrelated.Labels).to(ScalarType.Float32).mean().item<float>();
        Assert.Equal(result.Baseline.TargetScore, accuracy, 6);
        result.Model.Dispose();
    }

    [Fact]
    public void Tsne_of_real_features_keeps_neighbourhoods_and_pictures_both_domains_before_and_after_mmd()
    {
        var (source, targetTrain, targetTest) = Shifted.Value;
        var result = DomainAdaptation.Run(source, targetTrain.Features, targetTest, new AdaptationOptions { Method = AdaptationMethod.Mmd, Steps = 300, Seed = 0, Threads = 1 });
        string dir = Directory.CreateTempSubdirectory("edgetl-tsne-").FullName;
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            result.Model.eval();
            // 30 source and 30 target test rows per class: 600 points.
            var sourceRows = Enumerable.Range(0, source.Count).Where(i => i % 2 == 0).Select(i => (long)i).ToArray();
            var targetRows = Enumerable.Range(0, targetTest.Count).Where(i => i % 4 < 3).Take(300).Select(i => (long)i).ToArray();
            var features = cat([source.Features.index_select(0, tensor(sourceRows)), targetTest.Features.index_select(0, tensor(targetRows))], 0);
            var labels = cat([source.Labels.index_select(0, tensor(sourceRows)), targetTest.Labels.index_select(0, tensor(targetRows))], 0).data<long>().Select(l => (int)l).ToArray();
            int[] domains = [.. Enumerable.Repeat(0, sourceRows.Length), .. Enumerable.Repeat(1, targetRows.Length)];
            foreach (var (name, rows) in new[] { ("before", features), ("after", result.Model.Embed(features)) })
            {
                var points = Rows(rows);
                var embedding = Tsne.Embed(points, new TsneOptions { Seed = 0 });
                double trust = Trustworthiness.Compute(points, embedding, k: 10);
                output.WriteLine($"t-SNE {name} MMD adaptation: {points.Length} points, trustworthiness(k=10) {trust:F3}");
                Assert.True(trust >= 0.9, $"{name}: trustworthiness {trust:F3}");
                string path = Path.Combine(dir, $"tsne-{name}.png");
                Charts.Embedding(path, embedding, labels, TestData.Train.ClassNames, domains, ["source", "inverted target"], $"t-SNE {name} adaptation");
                Assert.True(new FileInfo(path).Length > 10_000);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            result.Model.Dispose();
        }
    }

    private static double[][] Rows(Tensor t)
    {
        var values = t.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        int d = (int)t.shape[1];
        return [.. Enumerable.Range(0, (int)t.shape[0]).Select(i => values.AsSpan(i * d, d).ToArray())];
    }

    [Fact]
    public void Wrong_shapes_and_settings_get_clear_errors()
    {
        using var source = new FeatureSet(randn(20, 8), randint(0, 2, [20]), 2);
        Assert.Equal(TrainerErrorCode.InvalidInputShape,
            Assert.Throws<EdgeTrainerException>(() => DomainAdaptation.Run(source, randn(10, 9), null, new AdaptationOptions { Steps = 1 })).Code);
        Assert.Equal(TrainerErrorCode.InvalidConfiguration,
            Assert.Throws<EdgeTrainerException>(() => DomainAdaptation.Run(source, randn(10, 8), null, new AdaptationOptions { Steps = 0 })).Code);
        var nan = randn(10, 8);
        nan[3, 2] = tensor(float.NaN);
        Assert.Equal(TrainerErrorCode.NonFiniteInput,
            Assert.Throws<EdgeTrainerException>(() => DomainAdaptation.Run(source, nan, null, new AdaptationOptions { Steps = 5, BatchSize = 10 })).Code);
    }
}
