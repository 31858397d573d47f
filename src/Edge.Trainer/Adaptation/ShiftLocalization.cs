using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Training;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Adaptation;

/// <summary>
/// Where in a backbone a domain shift shows: every BatchNorm's input statistics (per-channel mean
/// and variance) are estimated once on source images and once on target images (exact averages, as
/// AdaBN computes them), and their mismatch is averaged per layer group. A shift at the input
/// (lighting, inversion, sensor noise) peaks in the stem or stage1; a shift of content (new classes
/// on clean images) peaks in the last stages. The backbone is left exactly as it was.
/// </summary>
public static class ShiftLocalization
{
    /// <summary>
    /// The per-group mismatch between <paramref name="source"/> and <paramref name="target"/> images
    /// [N, C, H, W] and the verdict. Mismatch per channel is the symmetric Kullback–Leibler divergence
    /// between the two Gaussians N(μ, σ²) the BatchNorm would normalize with (variances floored at
    /// 1e-3 of the layer's mean variance, so that dead channels do not dominate).
    /// </summary>
    /// <exception cref="EdgeTrainerException">Fewer than 2 images on a side, or a backbone without BatchNorm.</exception>
    public static ShiftReport Localize(IBackbone backbone, Tensor source, Tensor target, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        if (source.shape[0] < 2 || target.shape[0] < 2)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset,
                $"Shift localization needs at least 2 source and 2 target images; got {source.shape[0]} and {target.shape[0]}.");
        var groups = backbone.LayerGroups.Where(g => !g.IsHead)
            .Select(g => (g.Name, Norms: g.Modules.SelectMany(m => m.modules().Prepend(m)).Where(BatchNormSnapshot.IsBatchNorm).Distinct().ToList()))
            .Where(g => g.Norms.Count > 0)
            .ToList();
        if (groups.Count == 0)
            throw new EdgeTrainerException(TrainerErrorCode.UnsupportedModel,
                "The backbone has no BatchNorm layer in its layer groups (its normalization may be folded into the convolutions); shift localization reads BatchNorm statistics.");
        var norms = groups.SelectMany(g => g.Norms).ToList();
        using var statistics = new BatchNormSnapshot(norms);   // statistics and batch counters, put back on the way out
        var onSource = Estimate(backbone, norms, source, seed);
        var onTarget = Estimate(backbone, norms, target, seed);
        var index = norms.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
        var stages = groups.Select(g => new StageShift(g.Name,
            g.Norms.Average(n => Mismatch(onSource[index[n]], onTarget[index[n]])), g.Norms.Count)).ToList();
        foreach (var (mean, variance) in onSource.Concat(onTarget))
        {
            mean.Dispose();
            variance.Dispose();
        }
        return ShiftReport.From(stages);
    }

    private static List<(Tensor Mean, Tensor Var)> Estimate(IBackbone backbone, List<nn.Module> norms, Tensor images, int seed)
    {
        BatchNormCalibration.Recalibrate(backbone.Network, Batches(images, seed));
        return [.. norms.Select(Statistics).Select(s => (s.Mean.detach().clone(), s.Var.detach().clone()))];
    }

    /// <summary>Mean over channels of the symmetric KL divergence between N(μs, σs²) and N(μt, σt²).</summary>
    private static double Mismatch((Tensor Mean, Tensor Var) source, (Tensor Mean, Tensor Var) target)
    {
        using var scope = NewDisposeScope();
        double floor = 1e-3 * Math.Max(source.Var.mean().item<float>(), 1e-12);
        var vs = source.Var.clamp_min(floor);
        var vt = target.Var.clamp_min(floor);
        var squared = (source.Mean - target.Mean).square();
        var kl = 0.5 * (vs / vt + vt / vs - 2) + 0.5 * squared * (1 / vs + 1 / vt);
        return kl.mean().item<float>();
    }

    private static (Tensor Mean, Tensor Var) Statistics(nn.Module norm) =>
        (norm.get_buffer("running_mean")!, norm.get_buffer("running_var")!);

    private static IEnumerable<Tensor> Batches(Tensor images, int seed)
    {
        long count = images.shape[0];
        int batch = (int)Math.Min(50, count);
        using var order = new TorchSharp.torch.Generator((ulong)seed);
        using var permutation = randperm(count, generator: order);
        for (long start = 0; start + 1 < count; start += batch)
            yield return images.index_select(0, permutation.narrow(0, start, Math.Min(batch, count - start)));
    }
}
