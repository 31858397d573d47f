namespace EdgeTL.Agent.Storage;

/// <summary>A classifier head trained on the device, with how it was made and how it scored.</summary>
public sealed class HeadRecord
{
    /// <summary>Sequence number (auto-increment).</summary>
    public long Id { get; set; }

    /// <summary>"head" (seed head over features) or "adapted" (bottleneck + head from domain adaptation).</summary>
    public string Kind { get; set; } = "head";

    /// <summary>The weights file (TorchSharp module format).</summary>
    public string Path { get; set; } = "";

    /// <summary>Counter of the package (backbone) it was trained on.</summary>
    public long PackageCounter { get; set; }

    /// <summary>The device-made model version it was trained on, or null for the package as shipped (same counter, another backbone).</summary>
    public string? ModelVersion { get; set; }

    /// <summary>Feature width.</summary>
    public int FeatureDim { get; set; }

    /// <summary>Bottleneck width ("adapted" heads).</summary>
    public int BottleneckDim { get; set; }

    /// <summary>Class labels, in output order.</summary>
    public List<string> Labels { get; set; } = [];

    /// <summary>"serving", "retired" or "rejected".</summary>
    public string Status { get; set; } = "serving";

    /// <summary>What made it (command id or "cold-start", "drift").</summary>
    public string Origin { get; set; } = "";

    /// <summary>The newest sample it was trained on: only later samples can judge it fairly, unless <see cref="HoldoutExcluded"/>.</summary>
    public long TrainedThroughSampleId { get; set; }

    /// <summary>
    /// True when it trained on the train part of the fixed holdout split only, so every holdout
    /// row judges it fairly; false (cold start, and heads from before the fixed split) when only
    /// holdout rows newer than <see cref="TrainedThroughSampleId"/> do.
    /// </summary>
    public bool HoldoutExcluded { get; set; }

    /// <summary>Holdout accuracy when it was made.</summary>
    public double Accuracy { get; set; }

    /// <summary>When it was made, UTC ticks.</summary>
    public long CreatedTicks { get; set; }
}
