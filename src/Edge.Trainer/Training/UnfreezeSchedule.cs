namespace EdgeTL.Trainer.Training;

/// <summary>
/// When frozen layer groups start training. Training begins with the backbone frozen (head-only
/// warm-up); each step unfreezes more groups, which join the optimizer at their own learning
/// rate (<see cref="LearningRatePolicy"/>). The empty schedule is head-only training.
/// </summary>
public sealed record UnfreezeSchedule(IReadOnlyList<UnfreezeStep> Steps)
{
    /// <summary>Head-only: the backbone never unfreezes.</summary>
    public static UnfreezeSchedule HeadOnly { get; } = new([]);

    /// <summary>
    /// The seed's preset: head only for epochs 0–4, stage4 (ResNet's layer4) from epoch 5,
    /// stage3 (layer3) from epoch 10.
    /// </summary>
    public static UnfreezeSchedule SeedPreset { get; } = new([new(5, ["stage4"]), new(10, ["stage3"])]);

    /// <summary>Head-only for <paramref name="warmupEpochs"/> epochs, then stage4, stage3, … one every <paramref name="every"/> epochs, down to <paramref name="lowest"/>.</summary>
    public static UnfreezeSchedule Progressive(int warmupEpochs, int every, string lowest = "stage3")
    {
        string[] order = ["stage4", "stage3", "stage2", "stage1", "stem"];
        int last = Array.IndexOf(order, lowest);
        if (warmupEpochs < 0 || every < 1 || last < 0)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration,
                $"Progressive schedule needs warm-up ≥ 0, every ≥ 1 and a lowest group among {string.Join(", ", order)}.");
        return new(order.Take(last + 1).Select((g, i) => new UnfreezeStep(warmupEpochs + (i * every), [g])).ToArray());
    }

    /// <summary>Head-only for <paramref name="warmupEpochs"/>, then the whole backbone (full fine-tuning).</summary>
    public static UnfreezeSchedule FullAfterWarmup(int warmupEpochs) =>
        new([new(warmupEpochs, ["stem", "stage1", "stage2", "stage3", "stage4"])]);

    /// <summary>Groups that unfreeze at the start of <paramref name="epoch"/>.</summary>
    public IEnumerable<string> GroupsAt(int epoch) => Steps.Where(s => s.Epoch == epoch).SelectMany(s => s.Groups);
}
