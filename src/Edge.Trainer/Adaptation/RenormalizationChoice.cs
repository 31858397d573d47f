using System.Globalization;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Adaptation;

/// <summary>One set of layer groups label-free re-normalization could re-estimate, and how far the target's features land from the source's after it.</summary>
/// <param name="Groups">The layer groups re-normalized (empty: none, the backbone as it serves).</param>
/// <param name="FeatureGap">
/// Squared distance between the mean target and mean source feature (the head's input), divided by
/// the summed per-dimension pooled variance: the mean shift the head sees, in units of the features' spread.
/// </param>
public sealed record RenormalizationCandidate(IReadOnlyList<string> Groups, double FeatureGap);

/// <summary>
/// Which layer groups AdaBN and Tent re-normalize. The serving head was trained on source features, so
/// the aim of re-normalizing is that target images reach the head where source images do. For an
/// input-level shift each contiguous run of groups within the input-level region (the first two
/// groups, where <see cref="ShiftReport"/> puts such a shift) is re-estimated on the target in turn,
/// and the run whose target features come closest to the source features (<see cref="RenormalizationCandidate.FeatureGap"/>)
/// is chosen, even where none of them comes closer than the backbone as it serves (<see cref="Unadapted"/>, reported beside them:
/// the guard judges the result); for a semantic shift, the first group alone. Label-free: it reads unlabelled target
/// images and the source images the shift was localized against. The backbone is left exactly as it was.
/// </summary>
/// <param name="Groups">The chosen groups.</param>
/// <param name="Unadapted">The feature gap with nothing re-normalized.</param>
/// <param name="Candidates">Every candidate measured, in the order tried.</param>
public sealed record RenormalizationChoice(IReadOnlyList<string> Groups, double Unadapted, IReadOnlyList<RenormalizationCandidate> Candidates)
{
    /// <summary>Images per side the choice measures on, at most (the first ones): a mean feature settles long before, and each candidate costs two passes over the target.</summary>
    public const int MaxImages = 256;

    /// <summary>
    /// Measures each candidate of <paramref name="shift"/> on <paramref name="backbone"/> with <paramref name="source"/>
    /// and <paramref name="target"/> images [N, C, H, W] (the first <see cref="MaxImages"/> of each), and chooses the one with the
    /// smallest feature gap.
    /// </summary>
    /// <exception cref="EdgeTrainerException">Fewer than 2 images on a side, or a candidate group without BatchNorm.</exception>
    public static RenormalizationChoice Choose(IBackbone backbone, Tensor source, Tensor target, ShiftReport shift, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(shift);
        if (source.shape[0] < 2 || target.shape[0] < 2)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset,
                $"Choosing the groups to re-normalize needs at least 2 source and 2 target images; got {source.shape[0]} and {target.shape[0]}.");
        var candidates = shift.RenormalizationCandidates;
        using var scope = NewDisposeScope();   // batches, views and features; only numbers leave
        using var sourceImages = source.narrow(0, 0, Math.Min(source.shape[0], MaxImages));
        using var targetImages = target.narrow(0, 0, Math.Min(target.shape[0], MaxImages));
        var norms = backbone.Network.modules().Where(m => m is BatchNorm2d || m is OnnxNodeModule { OpType: "BatchNormalization" }).ToList();
        var saved = norms.SelectMany(n => n.buffers(recurse: false)).Select(b => (Buffer: b, Copy: b.clone())).ToList();
        try
        {
            using var sourceFeatures = Features(backbone, sourceImages);
            using (var unadapted = Features(backbone, targetImages))
            {
                double before = Gap(sourceFeatures, unadapted);
                var measured = new List<RenormalizationCandidate>();
                foreach (var groups in candidates)
                {
                    TestTimeAdaptation.AdaBn(backbone, targetImages, seed: seed, groups: groups);
                    using (var adapted = Features(backbone, targetImages))
                        measured.Add(new RenormalizationCandidate(groups, Gap(sourceFeatures, adapted)));
                    Restore(saved);
                }
                var best = measured.MinBy(c => c.FeatureGap)!;
                return new RenormalizationChoice(best.Groups, before, measured);
            }
        }
        finally
        {
            Restore(saved);
            foreach (var (_, copy) in saved)
                copy.Dispose();
        }
    }

    /// <summary>"stage1 (feature gap 0.184; none 0.406, stem 0.254, stem+stage1 0.186, stage1 0.184)".</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{string.Join("+", Groups)} (feature gap {Candidates.First(c => c.Groups.SequenceEqual(Groups)).FeatureGap:G3}; none {Unadapted:G3}, " +
        $"{string.Join(", ", Candidates.Select(c => $"{string.Join("+", c.Groups)} {c.FeatureGap:G3}"))})");

    private static void Restore(List<(Tensor Buffer, Tensor Copy)> saved)
    {
        using var noGrad = no_grad();
        foreach (var (buffer, copy) in saved)
            buffer.copy_(copy);
    }

    /// <summary>Pooled backbone features of <paramref name="images"/> in evaluation mode, in batches of 64.</summary>
    private static Tensor Features(IBackbone backbone, Tensor images)
    {
        var modes = backbone.Network.modules().Prepend(backbone.Network).Select(m => (Module: m, m.training)).ToList();
        try
        {
            backbone.Network.eval();
            using var noGrad = no_grad();
            var parts = new List<Tensor>();
            for (long start = 0; start < images.shape[0]; start += 64)
                parts.Add(backbone.ForwardFeatures(images.narrow(0, start, Math.Min(64, images.shape[0] - start))).flatten(1));
            var all = cat(parts);
            foreach (var part in parts)
                part.Dispose();
            return all;
        }
        finally
        {
            foreach (var (module, training) in modes)
                module.train(training);
        }
    }

    private static double Gap(Tensor source, Tensor target)
    {
        using var scope = NewDisposeScope();
        var pooled = (source.var([0]) + target.var([0])) / 2;
        return ((source.mean([0]) - target.mean([0])).square().sum() / pooled.sum().clamp_min(1e-12)).item<float>();
    }
}
