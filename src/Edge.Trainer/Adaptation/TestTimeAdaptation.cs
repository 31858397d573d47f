using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Adaptation;

/// <summary>
/// Label-free adaptation of a backbone to a new input domain, on target images alone:
/// <list type="bullet">
/// <item>AdaBN (Li et al., 2016): every BatchNorm's running statistics re-estimated on the target.</item>
/// <item>Tent (Wang et al., ICLR 2021): the BatchNorm scales and shifts trained to make the
/// classifier's predictions on the target confident (minimum entropy), normalizing with batch
/// statistics; then the statistics are re-estimated on the target, so the result is a plain
/// inference model again.</item>
/// </list>
/// Both touch BatchNorm only, on TorchSharp <c>BatchNorm2d</c> and imported ONNX BatchNormalization
/// nodes alike. Batches are shuffled: a class-ordered set would give each batch one class.
/// </summary>
public static class TestTimeAdaptation
{
    /// <summary>
    /// AdaBN: re-estimates the BatchNorm statistics of <paramref name="backbone"/> on <paramref name="images"/>
    /// [N, C, H, W] and returns the batches used. With <paramref name="groups"/> (layer group names), only
    /// those groups' BatchNorm layers: an input-level shift lives in the first groups, while the last
    /// groups' statistics also carry which classes the images show, which a re-estimation on a few
    /// classes would bend.
    /// </summary>
    /// <exception cref="EdgeTrainerException">No images, an unknown group, or a network without BatchNorm (in those groups).</exception>
    public static int AdaBn(IBackbone backbone, Tensor images, int batchSize = 50, int seed = 0, IReadOnlyList<string>? groups = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(images);
        var norms = RequireBatchNorm(backbone, groups);
        return BatchNormCalibration.Recalibrate(backbone.Network, ShuffledBatches(images, batchSize, seed), norms);
    }

    /// <summary>
    /// Tent: minimizes the mean prediction entropy of <paramref name="head"/>(<paramref name="backbone"/>(x))
    /// over <paramref name="images"/> [N, C, H, W] by training only the backbone's BatchNorm scales and shifts,
    /// then re-estimates its statistics (AdaBN) on the same images. The head is not changed. Every
    /// parameter's trainable flag and every module's mode is restored.
    /// </summary>
    /// <exception cref="EdgeTrainerException">No images, a network without BatchNorm, or a non-finite entropy.</exception>
    public static TentResult Tent(IBackbone backbone, nn.Module<Tensor, Tensor> head, Tensor images, TentOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(images);
        options ??= new TentOptions();
        var norms = RequireBatchNorm(backbone, options.Groups);
        var affine = norms.SelectMany(n => n.named_parameters(recurse: false)).Where(p => p.name is "weight" or "bias").Select(p => p.parameter).ToList();
        var trainable = backbone.Network.parameters().Concat(head.parameters()).Select(p => (Parameter: p, p.requires_grad)).ToList();
        var modes = backbone.Network.modules().Prepend(backbone.Network).Concat(head.modules().Prepend(head)).Select(m => (Module: m, m.training)).ToList();
        double before = MeanEntropy(backbone, head, images);
        int steps = 0;
        try
        {
            foreach (var (parameter, _) in trainable)
                parameter.requires_grad = false;
            foreach (var p in affine)
                p.requires_grad = true;
            backbone.Network.eval();
            head.eval();
            foreach (var norm in norms)
                norm.train();   // batch statistics, as Tent normalizes
            using var optimizer = optim.Adam(affine, options.LearningRate);
            int batch = Math.Min(options.BatchSize, (int)images.shape[0]);
            using var order = new Generator((ulong)options.Seed);
            while (steps < options.Steps)
            {
                using var permutation = randperm(images.shape[0], generator: order);
                for (int start = 0; start + batch <= images.shape[0] && steps < options.Steps; start += batch, steps++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    optimizer.zero_grad();
                    var logits = head.forward(backbone.ForwardFeatures(images.index_select(0, permutation.narrow(0, start, batch))));
                    var loss = Entropy(logits).mean();
                    double value = loss.item<float>();
                    if (!double.IsFinite(value))
                        throw new EdgeTrainerException(TrainerErrorCode.NonFiniteLoss, $"Tent's entropy became {value} at step {steps + 1}; the backbone is left as it was before this step's update.");
                    loss.backward();
                    optimizer.step();
                }
            }
        }
        finally
        {
            foreach (var (parameter, requiresGrad) in trainable)
                parameter.requires_grad = requiresGrad;
            foreach (var (module, training) in modes)
                module.train(training);
        }
        BatchNormCalibration.Recalibrate(backbone.Network, ShuffledBatches(images, 50, options.Seed), norms);
        return new TentResult(before, MeanEntropy(backbone, head, images), affine.Count, steps);
    }

    /// <summary>Mean prediction entropy (nats) of the network in eval mode over <paramref name="images"/>.</summary>
    public static double MeanEntropy(IBackbone backbone, nn.Module<Tensor, Tensor> head, Tensor images)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(images);
        var modes = backbone.Network.modules().Prepend(backbone.Network).Concat(head.modules().Prepend(head)).Select(m => (Module: m, m.training)).ToList();
        try
        {
            backbone.Network.eval();
            head.eval();
            using var noGrad = no_grad();
            double sum = 0;
            long count = images.shape[0];
            for (long start = 0; start < count; start += 64)
            {
                using var scope = NewDisposeScope();
                long length = Math.Min(64, count - start);
                sum += Entropy(head.forward(backbone.ForwardFeatures(images.narrow(0, start, length)))).sum().item<float>();
            }
            return count == 0 ? 0 : sum / count;
        }
        finally
        {
            foreach (var (module, training) in modes)
                module.train(training);
        }
    }

    private static Tensor Entropy(Tensor logits) => -(nn.functional.softmax(logits, 1) * nn.functional.log_softmax(logits, 1)).sum(1);

    /// <summary>The BatchNorm layers of <paramref name="groups"/> (all when null); throws when there is none or a group is unknown.</summary>
    internal static List<nn.Module> RequireBatchNorm(IBackbone backbone, IReadOnlyList<string>? groups)
    {
        IEnumerable<nn.Module> scope = backbone.Network.modules();
        if (groups is not null)
        {
            var unknown = groups.Except(backbone.LayerGroups.Select(g => g.Name)).ToList();
            if (unknown.Count > 0)
                throw new EdgeTrainerException(TrainerErrorCode.UnknownLayerGroup,
                    $"Unknown layer group(s) {string.Join(", ", unknown)}; the backbone has {string.Join(", ", backbone.LayerGroups.Select(g => g.Name))}.");
            scope = backbone.LayerGroups.Where(g => groups.Contains(g.Name)).SelectMany(g => g.Modules.SelectMany(m => m.modules().Prepend(m)));
        }
        var norms = scope.Where(BatchNormSnapshot.IsBatchNorm).Distinct().ToList();
        if (norms.Count == 0)
            throw new EdgeTrainerException(TrainerErrorCode.UnsupportedModel,
                $"The backbone has no BatchNorm layer{(groups is null ? "" : $" in {string.Join(", ", groups)}")} (its normalization may be folded into the convolutions); BN re-estimation and Tent need one.");
        return norms;
    }

    private static IEnumerable<Tensor> ShuffledBatches(Tensor images, int batchSize, int seed)
    {
        long count = images.shape[0];
        if (count == 0)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, "Label-free adaptation needs target images; there are none.");
        int batch = (int)Math.Min(Math.Max(2, batchSize), count);
        using var order = new Generator((ulong)seed);
        using var permutation = randperm(count, generator: order);
        for (long start = 0; start < count; start += batch)
        {
            long length = Math.Min(batch, count - start);
            if (length < 2 && start > 0)
                yield break;   // a single-image batch has no variance to average in
            yield return images.index_select(0, permutation.narrow(0, start, length));
        }
    }
}
