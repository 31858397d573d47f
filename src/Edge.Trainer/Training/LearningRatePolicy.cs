using EdgeTL.Trainer.Models;

namespace EdgeTL.Trainer.Training;

/// <summary>
/// Discriminative learning rates. The backbone's top group (stage4) trains at
/// <see cref="BaseLearningRate"/>; each group below it at <see cref="LayerDecay"/> times the one
/// above; the head at <see cref="HeadMultiplier"/> × base (10× by default, so the top of the
/// network learns ≈10× faster than the bottom). <see cref="Overrides"/> set a group's rate outright.
/// </summary>
public sealed record LearningRatePolicy
{
    /// <summary>Rate of the backbone's top group.</summary>
    public double BaseLearningRate { get; init; } = 1e-4;
    /// <summary>Head rate as a multiple of the base rate.</summary>
    public double HeadMultiplier { get; init; } = 10.0;
    /// <summary>Factor applied per group going down from stage4 (1 = all backbone groups at the base rate).</summary>
    public double LayerDecay { get; init; } = 1.0;
    /// <summary>Absolute rates for named groups.</summary>
    public IReadOnlyDictionary<string, double> Overrides { get; init; } = new Dictionary<string, double>();

    /// <summary>The rate of <paramref name="group"/>, given every group of the model (bottom to top).</summary>
    public double RateFor(LayerGroup group, IReadOnlyList<LayerGroup> allGroups)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(allGroups);
        if (Overrides.TryGetValue(group.Name, out double rate))
            return rate;
        if (group.IsHead)
            return BaseLearningRate * HeadMultiplier;
        var backbone = allGroups.Where(g => !g.IsHead).ToList();
        int depthFromTop = backbone.Count - 1 - backbone.IndexOf(group);
        return BaseLearningRate * Math.Pow(LayerDecay, Math.Max(0, depthFromTop));
    }

    /// <summary>Throws when a rate is not positive and finite.</summary>
    public void Validate()
    {
        static bool Ok(double v) => v > 0 && double.IsFinite(v);
        if (!Ok(BaseLearningRate) || !Ok(HeadMultiplier) || !Ok(LayerDecay) || Overrides.Values.Any(v => !Ok(v)))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, "Learning rates, multipliers and decay must be positive and finite.");
    }
}
