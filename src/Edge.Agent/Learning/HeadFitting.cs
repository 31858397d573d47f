using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Meta;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using static TorchSharp.torch;

namespace EdgeTL.Agent.Learning;

/// <summary>
/// Fits the seed head on frozen features (head-only fine-tuning), from a fresh initialization
/// or, for cold start, from a package's meta-learned initialization.
/// </summary>
public static class HeadFitting
{
    /// <summary>The divergence guard of every head fit: 10× the chance-level (or first) loss is not a bad step, it is a blow-up.</summary>
    public const double DivergenceFactor = 10;

    /// <summary>
    /// Trains a new head on <paramref name="train"/> for <paramref name="settings"/>.Epochs epochs
    /// (AdamW, the head at <c>lr</c>, the chosen schedule). A non-finite loss, or one over
    /// <see cref="DivergenceFactor"/> × max(first loss, ln classes), stops the fit at that step
    /// (before it is applied) with <see cref="EdgeTL.Trainer.EdgeTrainerException"/>
    /// (<c>NonFiniteLoss</c>, <c>Diverged</c>).
    /// </summary>
    public static (HeadModel Head, TrainingResult Result) Fit(LabelledFeatures train, FinetuneSettings settings,
        IProgress<EpochMetrics>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(settings);
        manual_seed(settings.Seed);
        var head = HeadModel.Create(train.Dim, train.Classes.Count);
        try
        {
            using var set = ToFeatureSet(train);
            var options = new TrainerOptions
            {
                Epochs = settings.Epochs,
                LearningRates = new LearningRatePolicy { BaseLearningRate = settings.LearningRate / 10, HeadMultiplier = 10 },
                Schedule = settings.Schedule switch { "step" => LrScheduleKind.Step, "constant" => LrScheduleKind.Constant, _ => LrScheduleKind.Cosine },
                RestoreBest = false,
                Seed = settings.Seed,
                DivergenceFactor = DivergenceFactor,
            };
            var result = new TrainingLoop(options).Fit(head, set.Batches(Math.Min(64, train.Count), shuffle: true, settings.Seed), progress: progress, cancellationToken: cancellationToken);
            return (head, result);
        }
        catch
        {
            head.Dispose();
            throw;
        }
    }

    /// <summary>Cold start from a meta-learned initialization: its few SGD steps on the support set.</summary>
    public static HeadModel FromInitialization(MetaInitialization initialization, LabelledFeatures support)
    {
        ArgumentNullException.ThrowIfNull(initialization);
        ArgumentNullException.ThrowIfNull(support);
        using var scope = NewDisposeScope();
        var x = tensor(support.Features).reshape(support.Count, support.Dim);
        var y = tensor(support.Labels.Select(l => (long)l).ToArray());
        return initialization.Adapt(x, y);
    }

    /// <summary>Accuracy of <paramref name="head"/> on <paramref name="set"/>.</summary>
    public static double Accuracy(nn.Module<Tensor, Tensor> head, LabelledFeatures set)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(set);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        head.eval();
        var predicted = head.forward(tensor(set.Features).reshape(set.Count, set.Dim)).argmax(1);
        return predicted.eq(tensor(set.Labels.Select(l => (long)l).ToArray())).to(ScalarType.Float32).mean().item<float>();
    }

    /// <summary>The same rows as a trainer feature set.</summary>
    public static FeatureSet ToFeatureSet(LabelledFeatures set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return new FeatureSet(tensor(set.Features).reshape(set.Count, set.Dim), tensor(set.Labels.Select(l => (long)l).ToArray()), set.Classes.Count);
    }
}
