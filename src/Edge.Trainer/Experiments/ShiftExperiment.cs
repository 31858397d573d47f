using System.Diagnostics;
using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Adaptation;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Experiments;

/// <summary>
/// Recovery from an input shift, every method on the same data, per seed. A pretrained model
/// (source classes) meets new classes whose images are shifted. The device has clean labels of the
/// new classes, a few labelled shifted images, a labelled shifted holdout (the guard's), and
/// unlabelled shifted images. Each method is scored on shifted and clean test images that no step
/// trained on:
/// <list type="bullet">
/// <item><c>source-only</c>: a head on the clean labels (what serves before any adaptation);</item>
/// <item><c>head</c>: a head on clean and shifted labels;</item>
/// <item><c>mmd</c>, <c>dann</c>: the head's features aligned to the unlabelled shifted images;</item>
/// <item><c>bn</c>, <c>tent</c>: the early layer groups <see cref="RenormalizationChoice"/> picks re-normalized on them (label-free), under the source-only head;
/// <c>bn-all</c>: every group, as AdaBN is usually run;</item>
/// <item><c>surgical</c>, <c>progressive</c>: stem + stage1, or stage4 then stage3, fine-tuned on clean and
/// shifted labels from the <c>head</c> head, as the device's backbone modes train (surgical re-estimates the
/// BatchNorm statistics of stem and stage1 from its batches, progressive keeps every group's frozen);
/// <c>bn+surgical</c>: <c>bn</c> first, then <c>surgical</c> (what <c>auto</c> leads to once labels arrive).</item>
/// </list>
/// </summary>
public static class ShiftExperiment
{
    /// <summary>Every method this experiment knows, in the order it runs them.</summary>
    public static IReadOnlyList<string> AllMethods { get; } = ["source-only", "head", "mmd", "dann", "bn", "bn-all", "tent", "surgical", "bn+surgical", "progressive"];

    /// <summary>Shifts <paramref name="set"/> as <paramref name="shift"/> says (seeded where random).</summary>
    public static LabeledImageSet Apply(ImageShift shift, LabeledImageSet set, int seed)
    {
        ArgumentNullException.ThrowIfNull(set);
        return shift switch
        {
            ImageShift.Inverted => set.Inverted(),
            ImageShift.NoiseLowContrast => set.NoisyLowContrast(sigma: 0.25, contrast: 0.5, seed),
            _ => throw new ArgumentOutOfRangeException(nameof(shift), shift, null),
        };
    }

    /// <summary>Runs the protocol on a pretrained zoo model (copied per method, never changed).</summary>
    public static ShiftExperimentReport Run(TransferModel pretrained, LabeledImageSet train, LabeledImageSet test, ShiftExperimentOptions options,
        IProgress<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pretrained);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        var methods = options.Methods ?? AllMethods;
        var unknown = methods.Except(AllMethods).ToList();
        if (unknown.Count > 0)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"Unknown method(s) {string.Join(", ", unknown)}; known: {string.Join(", ", AllMethods)}.");
        var pipeline = new ImagePipeline(new ImagePipelineOptions { InputSize = options.Pretrain.InputSize });
        var pool = train.SelectClasses(options.TargetClasses);
        var testPool = test.SelectClasses(options.TargetClasses);
        var seeds = new List<ShiftSeedResult>();
        int shiftedTestCount = 0, cleanTestCount = 0;
        foreach (int seed in options.Seeds)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var data = SeedData.Draw(pool, testPool, options, seed);
            shiftedTestCount = data.ShiftedTest.Count;
            cleanTestCount = data.CleanTest.Count;
            var run = new SeedRun(pretrained, data, options, pipeline, seed, cancellationToken);
            var results = new List<ShiftMethodResult>();
            foreach (var method in methods)
            {
                var result = run.Method(method);
                log?.Report($"{options.Shift} seed {seed}: {method,-12} shifted {result.ShiftedAccuracy:P1}, clean {result.CleanAccuracy:P1}, " +
                    $"holdout {result.HoldoutCorrect.Count(c => c)}/{result.HoldoutCorrect.Length} ({result.Seconds:F1} s)");
                results.Add(result);
            }
            var localization = run.Localize();
            log?.Report($"{options.Shift} seed {seed}: {localization.Describe()}");
            if (options.LabelFreeGroups is null && methods.Any(m => m is "bn" or "tent" or "bn+surgical"))
                log?.Report($"{options.Shift} seed {seed}: re-normalized {run.Renormalization().Describe()}");
            seeds.Add(new ShiftSeedResult(seed, results, localization));
            run.Dispose();
        }
        return new ShiftExperimentReport(options.Shift, shiftedTestCount, cleanTestCount, seeds);
    }

    /// <summary>The disjoint sets of one seed.</summary>
    private sealed record SeedData(LabeledImageSet Clean, LabeledImageSet ShiftedTrain, LabeledImageSet Holdout, LabeledImageSet Unlabelled,
        LabeledImageSet ShiftedTest, LabeledImageSet CleanTest)
    {
        public LabeledImageSet Labelled => Clean.Concat(ShiftedTrain);

        public static SeedData Draw(LabeledImageSet pool, LabeledImageSet testPool, ShiftExperimentOptions o, int seed)
        {
            int per = o.CleanPerClass + o.ShiftedPerClass + o.HoldoutPerClass + o.UnlabelledPerClass;
            var sample = pool.SamplePerClass(per, seed);   // class by class, per images each
            LabeledImageSet Part(int from, int count) =>
                sample.Subset([.. Enumerable.Range(0, sample.ClassCount).SelectMany(c => Enumerable.Range(c * per + from, count))]);
            var cleanTest = testPool.SamplePerClass(o.TestPerClass, 100 + seed);
            return new SeedData(
                Part(0, o.CleanPerClass),
                Apply(o.Shift, Part(o.CleanPerClass, o.ShiftedPerClass), 10 * seed + 1),
                Apply(o.Shift, Part(o.CleanPerClass + o.ShiftedPerClass, o.HoldoutPerClass), 10 * seed + 2),
                Apply(o.Shift, Part(o.CleanPerClass + o.ShiftedPerClass + o.HoldoutPerClass, o.UnlabelledPerClass), 10 * seed + 3),
                Apply(o.Shift, cleanTest, 10 * seed + 4),
                cleanTest);
        }
    }

    /// <summary>One seed's methods; the source-only and head heads are trained once and shared.</summary>
    private sealed class SeedRun : IDisposable
    {
        private readonly TransferModel _pretrained;
        private readonly SeedData _data;
        private readonly ShiftExperimentOptions _options;
        private readonly ImagePipeline _pipeline;
        private readonly int _seed;
        private readonly CancellationToken _ct;
        private readonly ZooBackbone _backbone;
        private HeadModel? _sourceHead, _labelledHead;
        private ShiftReport? _localization;
        private RenormalizationChoice? _renormalization;

        public SeedRun(TransferModel pretrained, SeedData data, ShiftExperimentOptions options, ImagePipeline pipeline, int seed, CancellationToken ct)
        {
            (_pretrained, _data, _options, _pipeline, _seed, _ct) = (pretrained, data, options, pipeline, seed, ct);
            _backbone = CopyBackbone();
        }

        private int Classes => _data.Clean.ClassCount;

        public ShiftMethodResult Method(string method)
        {
            _ct.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            var (labels, predict) = method switch
            {
                "source-only" => (false, OnFeatures(_backbone, SourceHead)),
                "head" => (true, OnFeatures(_backbone, LabelledHead)),
                "mmd" => (false, Aligned(AdaptationMethod.Mmd)),
                "dann" => (false, Aligned(AdaptationMethod.Dann)),
                "bn" => (false, Renormalized(tent: false, _options.LabelFreeGroups ?? Renormalization().Groups)),
                "bn-all" => (false, Renormalized(tent: false, null)),
                "tent" => (false, Renormalized(tent: true, _options.LabelFreeGroups ?? Renormalization().Groups)),
                "surgical" => (true, FineTuned("surgical")),
                "bn+surgical" => (true, FineTuned("surgical", renormalizeFirst: true)),
                _ => (true, FineTuned("progressive")),
            };
            try
            {
                return new ShiftMethodResult(method, labels, Accuracy(predict, _data.ShiftedTest), Accuracy(predict, _data.CleanTest),
                    Correct(predict, _data.Holdout), Correct(predict, _data.ShiftedTrain), clock.Elapsed.TotalSeconds);
            }
            finally
            {
                (predict.Target as IDisposable)?.Dispose();
            }
        }

        public ShiftReport Localize()
        {
            if (_localization is not null)
                return _localization;
            using var source = Images(_data.Clean);
            using var target = Images(_data.Unlabelled);
            return _localization = ShiftLocalization.Localize(_backbone, source, target, _seed);
        }

        /// <summary>The groups <c>bn</c> and <c>tent</c> re-normalize, chosen as the agent chooses them (<see cref="RenormalizationChoice"/>).</summary>
        public RenormalizationChoice Renormalization()
        {
            if (_renormalization is not null)
                return _renormalization;
            using var source = Images(_data.Clean);
            using var target = Images(_data.Unlabelled);
            return _renormalization = RenormalizationChoice.Choose(_backbone, source, target, Localize(), _seed);
        }

        private HeadModel SourceHead => _sourceHead ??= TrainHead(_data.Clean);

        private HeadModel LabelledHead => _labelledHead ??= TrainHead(_data.Labelled);

        private HeadModel TrainHead(LabeledImageSet set)
        {
            using var features = Features(_backbone, set);
            return TransferExperiment.TrainHead(features, new TransferExperimentOptions { HeadEpochs = _options.HeadEpochs }, _seed);
        }

        private Func<LabeledImageSet, int[]> Aligned(AdaptationMethod method)
        {
            using var source = Features(_backbone, _data.Clean);
            using var target = Features(_backbone, _data.Unlabelled);
            var options = (method == AdaptationMethod.Dann ? AdaptationOptions.DannRecipe : new AdaptationOptions { Method = AdaptationMethod.Mmd })
                with { Steps = _options.AdaptationSteps, BaselineSteps = _options.AdaptationSteps, Seed = _seed };
            var result = DomainAdaptation.Run(source, target.Features, null, options, cancellationToken: _ct);
            return new ModelOnFeatures(_backbone, result.Model, _pipeline, Classes, owns: true).Predict;
        }

        private Func<LabeledImageSet, int[]> Renormalized(bool tent, IReadOnlyList<string>? groups)
        {
            var model = new TransferModel(CopyBackbone(), Classes);
            CopyHead(SourceHead, model);
            using var images = Images(_data.Unlabelled);
            if (tent)
                TestTimeAdaptation.Tent(model.Backbone, model.Head, images, new TentOptions { Steps = _options.TentSteps, Seed = _seed, Groups = groups }, _ct);
            else
                TestTimeAdaptation.AdaBn(model.Backbone, images, seed: _seed, groups: groups);
            return new WholeModel(model, _pipeline).Predict;
        }

        /// <summary>The device's backbone fine-tune of <paramref name="mode"/> (<see cref="BackboneModes.Options"/>) on the labelled rows.</summary>
        private Func<LabeledImageSet, int[]> FineTuned(string mode, bool renormalizeFirst = false)
        {
            manual_seed(_seed);
            var model = new TransferModel(CopyBackbone(), Classes);
            CopyHead(LabelledHead, model);
            if (renormalizeFirst)
            {
                using var images = Images(_data.Unlabelled);
                TestTimeAdaptation.AdaBn(model.Backbone, images, seed: _seed, groups: _options.LabelFreeGroups ?? Renormalization().Groups);
            }
            var trainer = new TrainingLoop(BackboneModes.Options(mode, _options.FinetuneEpochs, _options.FinetuneLearningRate, LrScheduleKind.Cosine, _seed));
            trainer.Fit(model, new ImageTensorBatches(new BatchLoader(_data.Labelled, _pipeline, 16, shuffle: true, augment: false, _seed)), cancellationToken: _ct);
            return new WholeModel(model, _pipeline).Predict;
        }

        private Func<LabeledImageSet, int[]> OnFeatures(ZooBackbone backbone, HeadModel head) =>
            new ModelOnFeatures(backbone, head, _pipeline, Classes, owns: false).Predict;

        private FeatureSet Features(IBackbone backbone, LabeledImageSet set) =>
            FeatureExtraction.Extract(backbone, ImageTensorBatches.ForEvaluation(set, _pipeline, 250), set.ClassCount);

        private Tensor Images(LabeledImageSet set) => ImageTensorBatches.ForEvaluation(set, _pipeline, set.Count).Epoch(0).Single().Inputs;

        private ZooBackbone CopyBackbone()
        {
            var source = (ZooBackbone)_pretrained.Backbone;
            var copy = TransferExperiment.CopyBackbone(source, source.Architecture);
            copy.eval();
            return copy;
        }

        private static void CopyHead(HeadModel from, TransferModel to)
        {
            using var noGrad = no_grad();
            foreach (var (s, t) in from.Head.parameters().Zip(to.Head.parameters()))
                t.copy_(s);
        }

        private static bool[] Correct(Func<LabeledImageSet, int[]> predict, LabeledImageSet set) =>
            [.. predict(set).Select((p, i) => p == set.Labels[i])];

        private static double Accuracy(Func<LabeledImageSet, int[]> predict, LabeledImageSet set)
        {
            var predicted = predict(set);
            return predicted.Where((p, i) => p == set.Labels[i]).Count() / (double)set.Count;
        }

        public void Dispose()
        {
            _sourceHead?.Dispose();
            _labelledHead?.Dispose();
            _backbone.Dispose();
        }
    }

    /// <summary>A classifier over a frozen backbone's features.</summary>
    private sealed class ModelOnFeatures(IBackbone backbone, nn.Module<Tensor, Tensor> classifier, ImagePipeline pipeline, int classes, bool owns) : IDisposable
    {
        public int[] Predict(LabeledImageSet set)
        {
            using var features = FeatureExtraction.Extract(backbone, ImageTensorBatches.ForEvaluation(set, pipeline, 250), classes);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            classifier.eval();
            return [.. classifier.forward(features.Features).argmax(1).data<long>().Select(p => (int)p)];
        }

        public void Dispose()
        {
            if (owns)
                classifier.Dispose();
        }
    }

    /// <summary>A whole network (backbone and head) run on the images.</summary>
    private sealed class WholeModel(TransferModel model, ImagePipeline pipeline) : IDisposable
    {
        public int[] Predict(LabeledImageSet set) => Evaluation.Evaluate(model, ImageTensorBatches.ForEvaluation(set, pipeline, 250)).Predictions;

        public void Dispose() => model.Dispose();
    }
}
