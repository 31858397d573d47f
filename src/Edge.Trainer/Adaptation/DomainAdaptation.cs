using System.Diagnostics;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Metrics;
using EdgeTL.Trainer.Training.Optim;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Adaptation;

/// <summary>
/// Unsupervised domain adaptation on frozen backbone features: trains a source-only baseline and
/// an adapted model (DANN or multi-kernel MMD) with the same seed, steps and data, the joint loss
/// being L = L_cls(source) + w·L_transfer(source, target) with w fixed or the seed's dynamic
/// weight. Target labels are never used for training; when given, they only score the result.
/// The negative-transfer guard then keeps the adapted model only if it beats the baseline.
/// </summary>
public static class DomainAdaptation
{
    /// <summary>Most rows of each domain used for the MMD² and CID of a result.</summary>
    private const int MetricRows = 500;

    /// <summary>
    /// Adapts from labelled <paramref name="source"/> features to unlabelled <paramref name="target"/>
    /// features [m, d]. Two labelled target sets, both disjoint from training, have two separate jobs:
    /// <paramref name="targetGuard"/> decides (the negative-transfer guard compares the models' accuracy
    /// on it; without it the guard uses the unlabelled proxy, minus the mean prediction entropy on
    /// <paramref name="target"/>), and <paramref name="targetEvaluation"/> only scores the result (the
    /// accuracies and the transfer gain reported). One set doing both would report a gain selected on
    /// the rows that measure it, so the same set in both places is refused.
    /// </summary>
    /// <exception cref="EdgeTrainerException">Wrong shapes, bad options, or the guard set is the score set.</exception>
    public static AdaptationResult Run(FeatureSet source, Tensor target, FeatureSet? targetEvaluation, AdaptationOptions options,
        FeatureSet? sourceEvaluation = null, FeatureSet? targetGuard = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (target.dim() != 2 || target.shape[1] != source.Dim || target.shape[0] < 2)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape,
                $"Target features must be [m ≥ 2, {source.Dim}], got [{string.Join(", ", target.shape)}].");
        Models.InputGuard.RequireFeatures(target, source.Dim);
        foreach (var (set, name) in new[] { (targetEvaluation, "Target evaluation"), (targetGuard, "Target guard") })
        {
            if (set is not null && (set.Dim != source.Dim || set.ClassCount != source.ClassCount))
                throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape, $"{name} features must match the source's width and classes.");
        }
        if (targetGuard is not null && targetEvaluation is not null && SameRows(targetGuard, targetEvaluation))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration,
                "The guard set and the score set are the same rows: a gain selected on the rows that measure it is not a held-out figure. Pass disjoint labelled target sets.");
        int? threadsBefore = options.Threads is null ? null : get_num_threads();
        if (options.Threads is { } threads)
            set_num_threads(threads);
        try
        {
            var clock = Stopwatch.StartNew();
            var scoring = new Scoring(source, sourceEvaluation ?? source, target, targetEvaluation, targetGuard);
            var baselineOptions = options with { Method = AdaptationMethod.SourceOnly, Steps = options.BaselineSteps };
            var (baseline, baselineMetrics) = Train(source, target, baselineOptions, scoring, cancellationToken);
            var (adapted, adaptedMetrics) = Train(source, target, options, scoring, cancellationToken);
            bool negative = !(adaptedMetrics.TargetScore - baselineMetrics.TargetScore > options.MinimumGain);
            (negative ? adapted : baseline).Dispose();
            return new AdaptationResult
            {
                Method = options.Method,
                Baseline = baselineMetrics,
                Adapted = adaptedMetrics,
                TargetScoreKind = targetGuard is null ? "neg-entropy" : "accuracy",
                NegativeTransfer = negative,
                Model = negative ? baseline : adapted,
                Seconds = clock.Elapsed.TotalSeconds,
            };
        }
        finally
        {
            if (threadsBefore is { } before)
                set_num_threads(before);
        }
    }

    private static bool SameRows(FeatureSet a, FeatureSet b)
    {
        if (ReferenceEquals(a, b) || ReferenceEquals(a.Features, b.Features))
            return true;
        if (a.Count != b.Count)
            return false;
        using var scope = NewDisposeScope();
        return a.Features.equal(b.Features).all().item<bool>();
    }

    private static (AdaptationModel Model, AdaptationRunMetrics Metrics) Train(FeatureSet source, Tensor target, AdaptationOptions options,
        Scoring scoring, CancellationToken cancellationToken)
    {
        manual_seed(options.Seed);
        var model = new AdaptationModel(source.Dim, options.BottleneckDim, source.ClassCount);
        using var domain = options.Method == AdaptationMethod.Dann ? new DomainClassifier(options.BottleneckDim, options.DomainHidden, options.DomainLayers) : null;
        using var reversal = new GradientReverseLayer();
        using var mmd = new MultiKernelMmdLoss();
        using var optimizer = new FusedAdamW(weightDecay: 1e-3);
        var group = optimizer.AddGroup([.. model.parameters(), .. domain?.parameters() ?? []], options.LearningRate);
        var random = new Random(options.Seed);
        int n = source.Count, m = (int)target.shape[0], batch = options.BatchSize;
        var curve = new List<AdaptationCurvePoint>();
        int every = Math.Max(1, options.Steps / 20);
        double transferValue = 0, weight = 0, lambda = 0;
        try
        {
            for (int step = 0; step < options.Steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                model.train();
                domain?.train();
                var sourceRows = tensor(Draw(random, n, batch));
                var targetRows = tensor(Draw(random, m, batch));
                var embedded = model.Embed(cat([source.Features.index_select(0, sourceRows), target.index_select(0, targetRows)], 0));
                var (es, et) = (embedded[..batch], embedded[batch..]);
                var loss = nn.functional.cross_entropy(model.Classify(es), source.Labels.index_select(0, sourceRows));
                Tensor? transfer = null;
                double progress = (double)step / options.Steps;
                lambda = GrlSchedule.Ganin(progress, max: options.MaxReversal);
                // Ganin and Lempitsky's annealing, μ_p = μ₀ / (1 + 10p)^0.75: adversarial training settles as λ grows.
                group.LearningRate = options.LearningRate / Math.Pow(1 + (10 * progress), 0.75);
                switch (options.Method)
                {
                    case AdaptationMethod.Dann:
                        reversal.Coefficient = lambda;
                        var domainLabels = cat([zeros(batch, ScalarType.Int64), ones(batch, ScalarType.Int64)]);
                        transfer = nn.functional.cross_entropy(domain!.forward(reversal.forward(embedded)), domainLabels);
                        break;
                    case AdaptationMethod.Mmd:
                        transfer = mmd.forward(es, et);
                        break;
                }
                if (transfer is not null)
                {
                    weight = options.TransferWeight ?? DynamicTransferWeight.Compute(es, et, options.DynamicWeightScale);
                    transferValue = transfer.item<float>();
                    loss = loss + (weight * transfer);
                }
                float value = loss.item<float>();
                if (!float.IsFinite(value))
                    throw new EdgeTrainerException(TrainerErrorCode.NonFiniteLoss, $"The {options.Method} loss became {value} at step {step}; nothing was kept from this run.");
                optimizer.ZeroGrad();
                loss.backward();
                optimizer.Step();
                if ((step + 1) % every == 0 || step == options.Steps - 1)
                    curve.Add(scoring.CurvePoint(model, step + 1, transferValue, weight, lambda));
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return (model, scoring.Final(model, curve));
    }

    private static long[] Draw(Random random, int count, int batch) => [.. Enumerable.Range(0, batch).Select(_ => (long)random.Next(count))];

    /// <summary>Evaluates a model on the scoring sets (eval mode, no gradients).</summary>
    private sealed class Scoring(FeatureSet sourceTrain, FeatureSet sourceEvaluation, Tensor target, FeatureSet? targetEvaluation, FeatureSet? targetGuard)
    {
        public AdaptationCurvePoint CurvePoint(AdaptationModel model, int step, double transfer, double weight, double lambda)
        {
            var (sourceLoss, sourceAccuracy) = LossAndAccuracy(model, sourceEvaluation);
            (double Loss, double Accuracy)? t = targetEvaluation is null ? null : LossAndAccuracy(model, targetEvaluation);
            return new AdaptationCurvePoint(step, sourceLoss, sourceAccuracy, t?.Loss, t?.Accuracy, transfer, weight, lambda);
        }

        public AdaptationRunMetrics Final(AdaptationModel model, IReadOnlyList<AdaptationCurvePoint> curve)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            model.eval();
            var (_, sourceAccuracy) = LossAndAccuracy(model, sourceEvaluation);
            double? targetAccuracy = targetEvaluation is null ? null : LossAndAccuracy(model, targetEvaluation).Accuracy;
            var targetRows = targetEvaluation?.Features ?? target;
            double score = targetGuard is null ? -MeanEntropy(model.forward(target)) : LossAndAccuracy(model, targetGuard).Accuracy;
            var es = model.Embed(Spread(sourceEvaluation.Features));
            var et = model.Embed(Spread(targetRows));
            double mmd2 = Mmd.GaussianUnbiased(es, et);
            double cid = targetEvaluation is not null
                ? ClassSeparation.Cid(et, Spread(targetEvaluation.Labels), sourceTrain.ClassCount)
                : ClassSeparation.Cid(es, Spread(sourceEvaluation.Labels), sourceTrain.ClassCount);
            return new AdaptationRunMetrics(sourceAccuracy, targetAccuracy, score, mmd2, cid, curve);
        }

        private static (double Loss, double Accuracy) LossAndAccuracy(AdaptationModel model, FeatureSet set)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            model.eval();
            var logits = model.forward(set.Features);
            double loss = nn.functional.cross_entropy(logits, set.Labels).item<float>();
            double accuracy = logits.argmax(1).eq(set.Labels).to(ScalarType.Float32).mean().item<float>();
            return (loss, accuracy);
        }

        private static double MeanEntropy(Tensor logits)
        {
            var logp = nn.functional.log_softmax(logits, 1);
            return (-(logp.exp() * logp).sum(1)).mean().item<float>();
        }

        /// <summary>At most <see cref="MetricRows"/> rows, evenly spaced (sets are often ordered by class).</summary>
        private static Tensor Spread(Tensor t)
        {
            long n = t.shape[0];
            return n <= MetricRows ? t : t.index_select(0, tensor(Enumerable.Range(0, MetricRows).Select(i => i * n / MetricRows).ToArray()));
        }
    }
}
