using static TorchSharp.torch;

namespace EdgeTL.Trainer.Metrics;

/// <summary>
/// Class inter-distance CID = 1/C Σ_c ‖μ_c − μ‖², where μ_c is the mean feature of class c and μ
/// the mean of the class means. Larger means classes sit further apart in feature space.
/// </summary>
public static class ClassSeparation
{
    /// <summary>CID of features [N, D] with labels [N] in [0, classes); classes with no sample are skipped.</summary>
    public static double Cid(Tensor features, Tensor labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.dim() != 2 || labels.dim() != 1 || labels.shape[0] != features.shape[0])
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape, "CID needs features [N, D] and labels [N].");
        using var scope = NewDisposeScope();
        var means = new List<Tensor>();
        for (int c = 0; c < classes; c++)
        {
            var mask = labels.eq(c);
            if (mask.sum().item<long>() > 0)
                means.Add(features[mask].mean([0]));
        }
        if (means.Count == 0)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, "CID needs at least one labelled sample.");
        var stacked = stack(means);
        var center = stacked.mean([0], keepdim: true);
        return (stacked - center).pow(2).sum(1).mean().item<float>();
    }
}
