using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace EdgeTL.Protocol.Commands;

/// <summary>Arguments of <c>finetune</c> (a job): train a head on the labelled samples; promoted only if it beats the serving head on held-out samples.</summary>
public sealed record FinetuneArgs
{
    /// <summary><c>head-only</c> (on cached features), <c>progressive</c> (then the backbone's top stages) or <c>surgical</c> (then its earliest stages).</summary>
    [Description("'head-only' trains the head on cached features; 'progressive' also unfreezes the backbone's top stages (stage4, then stage3); 'surgical' tunes only its earliest stages (stem, stage1) and the head. Both backbone modes install a device-made model version when promoted.")]
    [AllowedValues("head-only", "progressive", "surgical")]
    public string Mode { get; set; } = "head-only";

    /// <summary>Epochs, 1–1000.</summary>
    [Description("Training epochs.")]
    [Range(1, 1000)]
    public int Epochs { get; set; } = 30;

    /// <summary>The head's learning rate in (0, 1]; <c>progressive</c> trains its stages at a tenth of it, <c>surgical</c> at it.</summary>
    [JsonPropertyName("lr")]
    [Description("The head's learning rate; progressive trains its backbone stages at a tenth of it (discriminative rates), surgical at it.")]
    [Range(1e-9, 1.0)]
    public double LearningRate { get; set; } = 1e-3;

    /// <summary><c>cosine</c>, <c>step</c> or <c>constant</c>.</summary>
    [Description("Learning-rate schedule.")]
    [AllowedValues("cosine", "step", "constant")]
    public string Schedule { get; set; } = "cosine";

    /// <summary>Seed of the split, initialization and shuffling.</summary>
    [Description("Seed of the train/holdout split, initialization and shuffling.")]
    [Range(0, int.MaxValue)]
    public int Seed { get; set; }
}
