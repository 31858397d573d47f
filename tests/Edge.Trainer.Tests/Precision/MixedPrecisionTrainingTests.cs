using System.Diagnostics;
using EdgeTL.Runtime.Data;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using EdgeTL.Trainer.Training.Precision;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Precision;

public sealed class MixedPrecisionTrainingTests(ITestOutputHelper output)
{
    /// <summary>
    /// resnet18 at 32×32 trained from scratch on 2,000 bundled Fashion-MNIST images (10 classes,
    /// 200 each) for 5 epochs, evaluated on all 1,000 test images, fp32 against bf16 with the
    /// same seed, data order and schedule. Then fp16 where this CPU's kernels allow it: libtorch's
    /// fp16 convolution backward on CPU takes ~24 s per batch here (no vectorized kernel), so fp16
    /// trains the seed head on the trained backbone's cached features, against the same head in
    /// fp32. Master weights stay fp32 throughout.
    /// </summary>
    [Fact]
    public void Reduced_precision_training_ends_within_one_point_of_fp32()
    {
        var train = TestData.Train.SamplePerClass(200, seed: 3);
        var test = ImageTensorBatches.ForEvaluation(TestData.Test, TestData.Pipeline(32));
        var backbone = new Dictionary<PrecisionMode, double>();
        var evaluations = new Dictionary<PrecisionMode, EvaluationResult>();
        using var fp32Model = TransferModel.Create("resnet18", 10, seed: 7);
        foreach (var mode in new[] { PrecisionMode.Fp32, PrecisionMode.Bf16 })
        {
            using var scope = NewDisposeScope();
            var model = mode == PrecisionMode.Fp32 ? fp32Model : TransferModel.Create("resnet18", 10, seed: 7);
            var clock = Stopwatch.StartNew();
            var result = new TrainingLoop(new TrainerOptions
            {
                Epochs = 5,
                LearningRates = new LearningRatePolicy { BaseLearningRate = 2e-3, HeadMultiplier = 1 },
                Precision = mode,
                RestoreBest = false,
                Seed = 5,
            }).Fit(model, new ImageTensorBatches(new BatchLoader(train, TestData.Pipeline(32), 64, shuffle: true, augment: false, seed: 5)));
            Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
            evaluations[mode] = Evaluation.Evaluate(model, test);
            backbone[mode] = evaluations[mode].Accuracy;
            output.WriteLine($"full network {mode}: test accuracy {backbone[mode]:P1}, compute {result.ComputeType}, {clock.Elapsed.TotalSeconds:F0} s");
        }

        using var trainFeatures = FeatureExtraction.Extract(fp32Model.Backbone, ImageTensorBatches.ForEvaluation(train, TestData.Pipeline(32)), 10);
        using var testFeatures = FeatureExtraction.Extract(fp32Model.Backbone, test, 10);
        var head = new Dictionary<PrecisionMode, double>();
        foreach (var mode in new[] { PrecisionMode.Fp32, PrecisionMode.Fp16 })
        {
            manual_seed(9);
            using var model = HeadModel.Create(trainFeatures.Dim, 10);
            var clock = Stopwatch.StartNew();
            var result = new TrainingLoop(new TrainerOptions
            {
                Epochs = 30,
                Precision = mode,
                LearningRates = new LearningRatePolicy { BaseLearningRate = 1e-3, HeadMultiplier = 1 },
                RestoreBest = false,
                Seed = 9,
            }).Fit(model, trainFeatures.Batches(64, shuffle: true, seed: 9));
            Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
            head[mode] = Evaluation.Evaluate(model, testFeatures.Batches(500, shuffle: false, seed: 0)).Accuracy;
            output.WriteLine($"head on cached features {mode}: test accuracy {head[mode]:P1}, compute {result.ComputeType}, skipped steps {result.SkippedSteps}, final loss scale {result.FinalLossScale}, {clock.Elapsed.TotalSeconds:F1} s");
        }
        // One-sided, paired on the same 1,000 test images: bf16 fails only when it is worse than fp32
        // by more than a point beyond what those images can resolve. A bf16 run takes a different
        // path through training, so one run's point estimate moves by about ±1.2 points on its own
        // (82.9 % against 84.2 % was seen on a CI machine with a healthy bf16).
        var (fp32Only, bf16Only) = Discordant(evaluations[PrecisionMode.Fp32], evaluations[PrecisionMode.Bf16]);
        int n = evaluations[PrecisionMode.Fp32].Labels.Length;
        double loss = (double)(fp32Only - bf16Only) / n;
        double lowerBound = loss - 1.645 * Math.Sqrt(fp32Only + bf16Only) / n;   // normal approximation to the discordant-pair test
        output.WriteLine($"bf16 against fp32 on n = {n}: {fp32Only} right only in fp32, {bf16Only} right only in bf16; loss {loss:P1}, one-sided 95 % lower bound {lowerBound:P1}");
        Assert.True(lowerBound <= 0.01, $"bf16 {backbone[PrecisionMode.Bf16]:P1} vs fp32 {backbone[PrecisionMode.Fp32]:P1}: worse by more than a point (lower bound {lowerBound:P1})");
        Assert.True(head[PrecisionMode.Fp16] >= head[PrecisionMode.Fp32] - 0.01, $"fp16 {head[PrecisionMode.Fp16]:P1} vs fp32 {head[PrecisionMode.Fp32]:P1}");
    }

    private static (int FirstOnly, int SecondOnly) Discordant(EvaluationResult first, EvaluationResult second)
    {
        int firstOnly = 0, secondOnly = 0;
        for (int i = 0; i < first.Labels.Length; i++)
        {
            bool a = first.Predictions[i] == first.Labels[i], b = second.Predictions[i] == second.Labels[i];
            if (a && !b)
                firstOnly++;
            else if (b && !a)
                secondOnly++;
        }
        return (firstOnly, secondOnly);
    }

    [Fact]
    public void Mixed_precision_keeps_fp32_masters_frozen_groups_and_accumulates_gradients()
    {
        using var scope = NewDisposeScope();
        using var model = TransferModel.Create("resnet18", 10, seed: 2);
        model.Freeze("stem", "stage1", "stage2");
        var frozen = model.Group("stage1").Parameters().Select(p => p.detach().clone()).ToArray();
        var result = new TrainingLoop(new TrainerOptions
        {
            Epochs = 2,
            Precision = PrecisionMode.Bf16,
            AccumulationSteps = 2,
            GradientClipNorm = 1.0,
            RestoreBest = false,
        }).Fit(model, TestData.Batches(perClass: 4, batchSize: 10));
        Assert.Equal("BFloat16", result.ComputeType);
        Assert.Equal(4, result.Steps);   // 4 batches per epoch, 2 per step, 2 epochs
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.All(model.Group("stage1").Parameters().Zip(frozen), pair => Assert.True(TestData.Same(pair.First, pair.Second)));
    }

    [Fact]
    public void Bias_only_updates_leave_backbone_weights_unchanged()
    {
        using var scope = NewDisposeScope();
        using var model = TransferModel.Create("mobilenet_v2", 10, seed: 2);
        var weights = model.Group("stage4").Modules.SelectMany(m => m.named_parameters()).Where(p => !p.name.EndsWith("bias", StringComparison.Ordinal)).Select(p => p.parameter.detach().clone()).ToArray();
        var biases = model.Group("stage4").Modules.SelectMany(m => m.named_parameters()).Where(p => p.name.EndsWith("bias", StringComparison.Ordinal)).Select(p => p.parameter.detach().clone()).ToArray();
        new TrainingLoop(new TrainerOptions { Epochs = 1, BiasOnly = true, RestoreBest = false }).Fit(model, TestData.Batches(perClass: 2, batchSize: 10));
        var after = model.Group("stage4").Modules.SelectMany(m => m.named_parameters()).ToArray();
        Assert.All(after.Where(p => !p.name.EndsWith("bias", StringComparison.Ordinal)).Select(p => p.parameter).Zip(weights), pair => Assert.True(TestData.Same(pair.First, pair.Second)));
        Assert.Contains(after.Where(p => p.name.EndsWith("bias", StringComparison.Ordinal)).Select(p => p.parameter).Zip(biases), pair => !TestData.Same(pair.First, pair.Second));
    }
}
