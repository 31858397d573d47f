using System.Diagnostics;
using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;

namespace EdgeTL.Trainer.Experiments;

/// <summary>
/// Measures transfer gain honestly. For each seed, on the same few labelled target images and
/// the same target test set, it trains four models and reports their accuracies:
/// <list type="number">
/// <item>the pretrained backbone, frozen, features cached once, head trained on them;</item>
/// <item>a randomly initialized backbone, frozen, same head-only protocol (baseline 1);</item>
/// <item>the whole network from scratch on the few images (baseline 2);</item>
/// <item>the pretrained backbone with progressive unfreezing (seed preset), starting from the head of (1),
/// with BatchNorm statistics frozen (batches of 20 images, and 1×1 maps in stage4 at 32×32, are too few to normalize with).</item>
/// </list>
/// A negative TG is reported as it is: it means the source task did not help the target.
/// </summary>
public static class TransferExperiment
{
    /// <summary>Runs the protocol with an already pretrained source model (its backbone is copied per run, never changed).</summary>
    public static TransferReport Run(TransferModel pretrained, double sourceTestAccuracy, LabeledImageSet train, LabeledImageSet test,
        TransferExperimentOptions options, IProgress<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pretrained);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        var arch = options.Pretrain.Architecture;
        var pipeline = new ImagePipeline(new ImagePipelineOptions { InputSize = options.Pretrain.InputSize });
        var targetPool = train.SelectClasses(options.TargetClasses);
        var targetTest = test.SelectClasses(options.TargetClasses);
        int classes = targetPool.ClassCount;
        var testBatches = ImageTensorBatches.ForEvaluation(targetTest, pipeline, 250);
        var seeds = new List<TransferSeedResult>();
        foreach (int seed in options.Seeds)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var shots = targetPool.SamplePerClass(options.ShotsPerClass, seed);
            var shotFeatures = ImageTensorBatches.ForEvaluation(shots, pipeline, 250);

            using var pretrainedBackbone = CopyBackbone((ZooBackbone)pretrained.Backbone, arch);
            var clock = Stopwatch.StartNew();
            using var trainFeatures = FeatureExtraction.Extract(pretrainedBackbone, shotFeatures, classes);
            using var testFeatures = FeatureExtraction.Extract(pretrainedBackbone, testBatches, classes);
            double extraction = clock.Elapsed.TotalSeconds;
            clock.Restart();
            using var pretrainedHeadModel = TrainHead(trainFeatures, options, seed);
            double pretrainedHead = Evaluation.Evaluate(pretrainedHeadModel, testFeatures.Batches(512, shuffle: false, 0)).Accuracy;
            double headSeconds = clock.Elapsed.TotalSeconds;
            log?.Report($"seed {seed}: pretrained head-only {pretrainedHead:P1} (features {extraction:F2}s, head {headSeconds:F2}s)");

            double randomHead;
            using (var randomBackbone = BackboneZoo.Create(arch, seed: 1000 + seed))
            using (var randomTrain = FeatureExtraction.Extract(randomBackbone, shotFeatures, classes))
            using (var randomTest = FeatureExtraction.Extract(randomBackbone, testBatches, classes))
                randomHead = HeadOnly(randomTrain, randomTest, options, seed);
            log?.Report($"seed {seed}: random frozen head-only {randomHead:P1}");

            double scratch = Scratch(shots, testBatches, pipeline, options, seed, cancellationToken);
            log?.Report($"seed {seed}: whole network from scratch {scratch:P1}");

            double? progressive = null;
            if (options.IncludeProgressive)
            {
                progressive = Progressive(pretrained, pretrainedHeadModel, shots, testBatches, pipeline, options, seed, cancellationToken);
                log?.Report($"seed {seed}: pretrained, progressive unfreezing {progressive:P1}");
            }
            seeds.Add(new TransferSeedResult
            {
                Seed = seed,
                PretrainedHeadOnly = pretrainedHead,
                RandomFrozenHeadOnly = randomHead,
                ScratchFullNetwork = scratch,
                PretrainedProgressive = progressive,
                FeatureExtractionSeconds = extraction,
                HeadTrainingSeconds = headSeconds,
            });
        }
        return new TransferReport { Options = options, SourceTestAccuracy = sourceTestAccuracy, TargetTestCount = targetTest.Count, Seeds = seeds };
    }

    /// <summary>Head-only training on cached features; returns target-test accuracy of the final head.</summary>
    public static double HeadOnly(FeatureSet train, FeatureSet test, TransferExperimentOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(test);
        using var head = TrainHead(train, options, seed);
        return Evaluation.Evaluate(head, test.Batches(512, shuffle: false, 0)).Accuracy;
    }

    /// <summary>Trains a fresh seed head on cached features (the backbone does not run at all).</summary>
    public static HeadModel TrainHead(FeatureSet train, TransferExperimentOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        TorchSharp.torch.manual_seed(seed);
        var head = HeadModel.Create(train.Dim, train.ClassCount);
        var trainer = new TrainingLoop(new TrainerOptions
        {
            Epochs = options.HeadEpochs,
            LearningRates = new LearningRatePolicy { BaseLearningRate = options.HeadLearningRate, HeadMultiplier = 1.0 },
            Schedule = LrScheduleKind.Cosine,
            RestoreBest = false,
            Seed = seed,
        });
        trainer.Fit(head, train.Batches(32, shuffle: true, seed));
        return head;
    }

    private static double Scratch(LabeledImageSet shots, ITensorBatches testBatches, ImagePipeline pipeline, TransferExperimentOptions options, int seed, CancellationToken ct)
    {
        using var model = TransferModel.Create(options.Pretrain.Architecture, shots.ClassCount, seed: 2000 + seed);
        var trainer = new TrainingLoop(new TrainerOptions
        {
            Epochs = options.ScratchEpochs,
            LearningRates = new LearningRatePolicy { BaseLearningRate = options.Pretrain.LearningRate, HeadMultiplier = 1.0 },
            WeightDecay = 5e-4,
            RestoreBest = false,
            Seed = seed,
        });
        var batches = new ImageTensorBatches(new BatchLoader(shots, pipeline, 20, shuffle: true, augment: true, seed));
        trainer.Fit(model, batches, cancellationToken: ct);
        return Evaluation.Evaluate(model, testBatches).Accuracy;
    }

    private static double Progressive(TransferModel pretrained, HeadModel warmHead, LabeledImageSet shots, ITensorBatches testBatches, ImagePipeline pipeline, TransferExperimentOptions options, int seed, CancellationToken ct)
    {
        TorchSharp.torch.manual_seed(seed);
        using var model = new TransferModel(CopyBackbone((ZooBackbone)pretrained.Backbone, options.Pretrain.Architecture), shots.ClassCount);
        model.Head.load_state_dict(warmHead.Head.state_dict());
        var trainer = new TrainingLoop(new TrainerOptions
        {
            Epochs = options.ProgressiveEpochs,
            LearningRates = new LearningRatePolicy { BaseLearningRate = options.ProgressiveLearningRate },
            Unfreeze = UnfreezeSchedule.SeedPreset,
            FreezeBatchNormStatistics = true,
            RestoreBest = false,
            Seed = seed,
        });
        var batches = new ImageTensorBatches(new BatchLoader(shots, pipeline, 20, shuffle: true, augment: true, seed));
        trainer.Fit(model, batches, target: testBatches, cancellationToken: ct);
        return Evaluation.Evaluate(model, testBatches).Accuracy;
    }

    /// <summary>A new zoo backbone of <paramref name="architecture"/> with <paramref name="source"/>'s weights and statistics.</summary>
    internal static ZooBackbone CopyBackbone(ZooBackbone source, string architecture)
    {
        var copy = BackboneZoo.Create(architecture);
        copy.load_state_dict(source.state_dict());
        return copy;
    }
}
