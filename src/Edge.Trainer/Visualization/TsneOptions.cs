namespace EdgeTL.Trainer.Visualization;

/// <summary>Settings of <see cref="Tsne"/>; the defaults are van der Maaten's and scikit-learn's.</summary>
public sealed record TsneOptions
{
    /// <summary>Effective number of neighbours each point's input distribution is fitted to (5–50).</summary>
    public double Perplexity { get; init; } = 30;
    /// <summary>Gradient-descent iterations.</summary>
    public int Iterations { get; init; } = 1000;
    /// <summary>Iterations at the start during which P is multiplied by <see cref="EarlyExaggeration"/>.</summary>
    public int ExaggerationIterations { get; init; } = 250;
    /// <summary>Factor on P early on, which forms tight, well-separated clusters first.</summary>
    public double EarlyExaggeration { get; init; } = 12;
    /// <summary>Step size; null = scikit-learn's "auto", max(n / exaggeration / 4, 50).</summary>
    public double? LearningRate { get; init; }
    /// <summary>Seed of the initial embedding; one seed, one picture.</summary>
    public int Seed { get; init; }
    /// <summary>Largest n of the exact O(n²) algorithm.</summary>
    public int MaxExactPoints { get; init; } = 2000;

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        if (!(Perplexity >= 1) || Iterations < 1 || ExaggerationIterations < 0 || !(EarlyExaggeration >= 1) || LearningRate is <= 0 || MaxExactPoints < 2)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration,
                "t-SNE needs perplexity ≥ 1, iterations ≥ 1, exaggeration ≥ 1, a positive learning rate and room for at least two points.");
    }
}
