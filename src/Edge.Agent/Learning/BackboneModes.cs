using EdgeTL.Trainer.Training;

namespace EdgeTL.Agent.Learning;

/// <summary>
/// Which layer groups a backbone fine-tune trains, and when they join: the head alone first (a third
/// of the epochs, or the seed's 5 from 15 epochs up), then <c>progressive</c> unfreezes stage4 and
/// later stage3 (the seed's schedule), and <c>surgical</c> unfreezes the earliest stages (stem and
/// stage1) together. Every other group stays frozen, BatchNorm statistics included (a surgical
/// fine-tune re-estimates the statistics of the groups it trains: <see cref="BackboneTuning.Options"/>).
/// </summary>
public static class BackboneModes
{
    /// <summary>Fewest epochs a backbone mode runs: a head-only warm-up, then each stage its own epochs.</summary>
    public const int MinimumEpochs = 3;

    /// <summary>The groups that train in <paramref name="mode"/>, in the order they join (the head first).</summary>
    public static IReadOnlyList<string> TrainedGroups(string mode) => mode switch
    {
        "progressive" => ["head", "stage4", "stage3"],
        "surgical" => ["head", "stem", "stage1"],
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Only 'progressive' and 'surgical' train the backbone."),
    };

    /// <summary>The unfreeze schedule of <paramref name="mode"/> over <paramref name="epochs"/> epochs (at least <see cref="MinimumEpochs"/>).</summary>
    public static UnfreezeSchedule Schedule(string mode, int epochs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, MinimumEpochs);
        if (mode == "surgical")
            return new([new(epochs >= 15 ? 5 : epochs / 3, ["stem", "stage1"])]);
        _ = TrainedGroups(mode);
        return epochs >= 15 ? UnfreezeSchedule.SeedPreset : new([new(epochs / 3, ["stage4"]), new(2 * epochs / 3, ["stage3"])]);
    }
}
