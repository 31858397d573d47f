using EdgeTL.Trainer.Training.Precision;

namespace EdgeTL.Trainer.Training;

/// <summary>
/// The backbone fine-tunes the device runs (<c>finetune mode=progressive|surgical</c>), defined once so
/// that the agent and the experiments that measure it (<c>bench shifts</c>) train the same thing.
/// <list type="bullet">
/// <item><c>progressive</c> (new classes): the head alone first, then stage4, then stage3 (the seed's
/// schedule). Discriminative rates: the head at the job's rate, the backbone at a tenth of it. Every
/// BatchNorm keeps its statistics (stage3 and stage4 maps are 2×2 and 1×1 at small inputs, too few
/// values for batch statistics).</item>
/// <item><c>surgical</c> (new inputs: an input-level shift, Lee et al., ICLR 2023): the head alone
/// first, then stem and stage1 together. These are the layers the shift moves, so they train at
/// the head's rate, not a tenth of it, and re-estimate their BatchNorm statistics from the batches.
/// Measured on inverted images (3 seeds, 30 epochs, held out): at a tenth of the head's rate the
/// stem recovered 71 % where the head's rate gave 78 % (docs/adaptation.md).</item>
/// </list>
/// The learning rate in every method here is the head's rate, as it is for a head-only fine-tune.
/// </summary>
public static class BackboneModes
{
    /// <summary>Fewest epochs a backbone mode runs: a head-only warm-up, then each stage its own epochs.</summary>
    public const int MinimumEpochs = 3;

    /// <summary>The modes that train the backbone.</summary>
    public static IReadOnlyList<string> Names { get; } = ["progressive", "surgical"];

    /// <summary>The groups that train in <paramref name="mode"/>, in the order they join (the head first).</summary>
    public static IReadOnlyList<string> TrainedGroups(string mode) => mode switch
    {
        "progressive" => ["head", "stage4", "stage3"],
        "surgical" => ["head", "stem", "stage1"],
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Only 'progressive' and 'surgical' train the backbone."),
    };

    /// <summary>
    /// The unfreeze schedule of <paramref name="mode"/> over <paramref name="epochs"/> epochs (at least
    /// <see cref="MinimumEpochs"/>): the head alone for a third of the epochs, or the seed's 5 from 15 epochs up.
    /// </summary>
    public static UnfreezeSchedule Schedule(string mode, int epochs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, MinimumEpochs);
        if (mode == "surgical")
            return new([new(epochs >= 15 ? 5 : epochs / 3, ["stem", "stage1"])]);
        _ = TrainedGroups(mode);
        return epochs >= 15 ? UnfreezeSchedule.SeedPreset : new([new(epochs / 3, ["stage4"]), new(2 * epochs / 3, ["stage3"])]);
    }

    /// <summary>The rates of <paramref name="mode"/>: the head at <paramref name="learningRate"/>; the backbone at a tenth of it (progressive) or at it (surgical).</summary>
    public static LearningRatePolicy Rates(string mode, double learningRate)
    {
        _ = TrainedGroups(mode);
        return mode == "surgical"
            ? new LearningRatePolicy { BaseLearningRate = learningRate, HeadMultiplier = 1 }
            : new LearningRatePolicy { BaseLearningRate = learningRate / 10, HeadMultiplier = 10 };
    }

    /// <summary>Whether <paramref name="mode"/> re-estimates the BatchNorm statistics of the groups it trains (frozen groups always keep theirs).</summary>
    public static bool ReestimatesStatistics(string mode) => TrainedGroups(mode)[1] == "stem";

    /// <summary>
    /// The training options of <paramref name="mode"/>: its schedule, rates and BatchNorm rule, the precision
    /// policy (<see cref="PrecisionMode.Auto"/>: bf16 where this CPU runs it measurably faster, fp32 elsewhere;
    /// master weights fp32, so an exported model is fp32 either way), the frozen-prefix cache
    /// (<see cref="FrozenPrefixCache"/>: stem to stage3 run once per sample while stage4 trains), the last epoch's weights.
    /// </summary>
    public static TrainerOptions Options(string mode, int epochs, double learningRate, LrScheduleKind schedule, int seed) => new()
    {
        Epochs = epochs,
        LearningRates = Rates(mode, learningRate),
        Schedule = schedule,
        Unfreeze = Schedule(mode, epochs),
        FreezeBatchNormStatistics = !ReestimatesStatistics(mode),
        Precision = PrecisionMode.Auto,
        RestoreBest = false,
        Seed = seed,
        CacheFrozenPrefix = true,
    };
}
