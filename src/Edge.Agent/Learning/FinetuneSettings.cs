using EdgeTL.Trainer.Training;

namespace EdgeTL.Agent.Learning;

/// <summary>Arguments of a <c>finetune</c> job.</summary>
public sealed record FinetuneSettings
{
    /// <summary>"head-only" (on cached features), "progressive" (unfreeze the backbone's top stages) or "surgical" (its earliest stages).</summary>
    public string Mode { get; init; } = "head-only";

    /// <summary>Epochs.</summary>
    public int Epochs { get; init; } = 30;

    /// <summary>The head's learning rate in every mode; the backbone modes set their stages' rates from it (<see cref="EdgeTL.Trainer.Training.BackboneModes.Rates"/>).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>"cosine", "step" or "constant".</summary>
    public string Schedule { get; init; } = "cosine";

    /// <summary>Seed of the split, initialization and shuffling.</summary>
    public int Seed { get; init; }

    /// <summary>True for the modes that train the backbone (on images, not cached features).</summary>
    public bool TrainsBackbone => Mode is "progressive" or "surgical";

    /// <summary>The problems of these settings (empty when valid).</summary>
    public IEnumerable<string> Problems()
    {
        if (Mode is not ("head-only" or "progressive" or "surgical"))
            yield return $"mode '{Mode}' must be 'head-only', 'progressive' or 'surgical'.";
        if (Epochs is < 1 or > 1000)
            yield return $"epochs {Epochs} must be 1–1000.";
        if (TrainsBackbone && Epochs < BackboneModes.MinimumEpochs)
            yield return $"mode '{Mode}' needs at least {BackboneModes.MinimumEpochs} epochs (the head first, then the backbone's stages).";
        if (!(LearningRate is > 0 and <= 1))
            yield return $"lr {LearningRate} must be in (0, 1].";
        if (Schedule is not ("cosine" or "step" or "constant"))
            yield return $"schedule '{Schedule}' must be cosine, step or constant.";
    }
}
