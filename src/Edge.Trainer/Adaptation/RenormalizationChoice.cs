using System.Globalization;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Data;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Adaptation;

/// <summary>One set of layer groups label-free re-normalization could re-estimate, and how far the target's features land from the source's after it.</summary>
/// <param name="Groups">The layer groups re-normalized (empty: none, the backbone as it serves).</param>
/// <param name="FeatureGap">
/// Squared distance between the mean target and mean source feature (the head's input), divided by
/// the summed per-dimension pooled variance: the mean shift the head sees, in units of the features' spread.
/// </param>
/// <param name="BatchNormLayers">How many BatchNorm layers re-normalizing <paramref name="Groups"/> re-estimates.</param>
/// <param name="GapError">The bootstrap standard error of <paramref name="FeatureGap"/> (images resampled on both sides).</param>
public sealed record RenormalizationCandidate(IReadOnlyList<string> Groups, double FeatureGap, int BatchNormLayers = 0, double GapError = 0);

/// <summary>
/// Which layer groups AdaBN and Tent re-normalize. The serving head was trained on source features, so
/// the aim of re-normalizing is that target images reach the head where source images do. For an
/// input-level shift each contiguous run of groups within the input-level region (the first two
/// groups, where <see cref="ShiftReport"/> puts such a shift) is re-estimated on the target in turn,
/// and its feature gap to the source measured (<see cref="RenormalizationCandidate.FeatureGap"/>). The choice follows the
/// one-standard-error rule: of the runs whose gap is within one bootstrap standard error of the smallest, the one that
/// re-estimates the fewest BatchNorm layers (each statistic estimated from a few hundred target images adds its own noise, so a
/// layer is re-estimated only where that measurably brings the target closer). It is chosen even where no run comes closer than
/// the backbone as it serves (<see cref="Unadapted"/>, reported beside them: the guard judges the result); for a semantic shift,
/// the first group alone. Label-free: it reads unlabelled target images and the source images the shift was localized against.
/// The backbone is left exactly as it was.
/// </summary>
/// <param name="Groups">The chosen groups.</param>
/// <param name="Unadapted">The feature gap with nothing re-normalized.</param>
/// <param name="Candidates">Every candidate measured, in the order tried.</param>
public sealed record RenormalizationChoice(IReadOnlyList<string> Groups, double Unadapted, IReadOnlyList<RenormalizationCandidate> Candidates)
{
    /// <summary>Images per side the choice measures on, at most (the first ones): a mean feature settles long before, and each candidate costs two passes over the target.</summary>
    public const int MaxImages = 256;

    /// <summary>Bootstrap resamples behind each candidate's <see cref="RenormalizationCandidate.GapError"/>.</summary>
    public const int BootstrapResamples = 200;

    /// <summary>
    /// Measures each candidate of <paramref name="shift"/> on <paramref name="backbone"/> with <paramref name="source"/>
    /// and <paramref name="target"/> images [N, C, H, W] (the first <see cref="MaxImages"/> of each), and chooses by the
    /// one-standard-error rule (the type's summary).
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
        using var statistics = new BatchNormSnapshot(BatchNormSnapshot.LayersOf(backbone.Network));
        var sourceFeatures = FeatureExtraction.Extract(backbone, sourceImages);
        var unadapted = FeatureExtraction.Extract(backbone, targetImages);
        var adapted = new List<Tensor>();
        foreach (var groups in candidates)
        {
            TestTimeAdaptation.AdaBn(backbone, targetImages, seed: seed, groups: groups);
            adapted.Add(FeatureExtraction.Extract(backbone, targetImages));
            statistics.Restore();
        }
        var errors = BootstrapErrors(sourceFeatures, adapted, seed);
        var measured = candidates.Select((groups, i) => new RenormalizationCandidate(groups, Gap(sourceFeatures, adapted[i]),
            TestTimeAdaptation.RequireBatchNorm(backbone, groups).Count, errors[i])).ToList();
        var best = measured.MinBy(c => c.FeatureGap)!;
        var chosen = measured.Where(c => c.FeatureGap <= best.FeatureGap + best.GapError)
            .OrderBy(c => c.BatchNormLayers).ThenBy(c => c.FeatureGap).First();
        return new RenormalizationChoice(chosen.Groups, Gap(sourceFeatures, unadapted), measured);
    }

    /// <summary>
    /// The standard deviation of each candidate's gap over <see cref="BootstrapResamples"/> resamples (with replacement, seeded) of
    /// the source rows and the target rows; every candidate is measured on the same resampled rows.
    /// </summary>
    private static double[] BootstrapErrors(Tensor sourceFeatures, List<Tensor> adapted, int seed)
    {
        var gaps = new double[adapted.Count][];
        for (int i = 0; i < adapted.Count; i++)
            gaps[i] = new double[BootstrapResamples];
        using var generator = new Generator((ulong)(seed + 1));
        long sourceRows = sourceFeatures.shape[0], targetRows = adapted.Count == 0 ? 0 : adapted[0].shape[0];
        for (int b = 0; b < BootstrapResamples; b++)
        {
            using var scope = NewDisposeScope();
            var sourceRowsDrawn = randint(sourceRows, [sourceRows], dtype: ScalarType.Int64, generator: generator).to(sourceFeatures.device);
            var targetRowsDrawn = randint(targetRows, [targetRows], dtype: ScalarType.Int64, generator: generator).to(sourceFeatures.device);
            var resampledSource = sourceFeatures.index_select(0, sourceRowsDrawn);
            for (int i = 0; i < adapted.Count; i++)
                gaps[i][b] = Gap(resampledSource, adapted[i].index_select(0, targetRowsDrawn));
        }
        return [.. gaps.Select(StandardDeviation)];
    }

    private static double StandardDeviation(double[] values)
    {
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, values.Length - 1));
    }

    /// <summary>"stage1 (feature gap 0.184; none 0.406, stem 0.254 ± 0.02, stem+stage1 0.176 ± 0.015, stage1 0.184 ± 0.016)".</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{string.Join("+", Groups)} (feature gap {Candidates.First(c => c.Groups.SequenceEqual(Groups)).FeatureGap:G3}; none {Unadapted:G3}, " +
        $"{string.Join(", ", Candidates.Select(c => $"{string.Join("+", c.Groups)} {c.FeatureGap:G3} ± {c.GapError:G2}"))})");

    private static double Gap(Tensor source, Tensor target)
    {
        using var scope = NewDisposeScope();
        var pooled = (source.var([0]) + target.var([0])) / 2;
        return ((source.mean([0]) - target.mean([0])).square().sum() / pooled.sum().clamp_min(1e-12)).item<float>();
    }
}
