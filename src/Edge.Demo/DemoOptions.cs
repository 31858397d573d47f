namespace EdgeTL.Demo;

/// <summary>Settings of the demo (defaults fit 2 cores in under 5 minutes).</summary>
public sealed record DemoOptions
{
    /// <summary>Where PNGs, the package cache and the demo agent's data go.</summary>
    public string OutputDirectory { get; init; } = "./out";

    /// <summary>Pretraining epochs when no cached package exists.</summary>
    public int PretrainEpochs { get; init; } = 6;

    /// <summary>Pretraining images per class (0: all 600 of the bundled subset).</summary>
    public int PretrainImagesPerClass { get; init; }

    /// <summary>Labelled samples per new class before the first model (cold start).</summary>
    public int Shots { get; init; } = 5;

    /// <summary>More labelled samples per class for the head-only fine-tune.</summary>
    public int FinetunePerClass { get; init; } = 40;

    /// <summary>Held-out images per class for the accuracy figures.</summary>
    public int TestPerClass { get; init; } = 20;

    /// <summary>Labelled shifted images per class that arrive after the label-free adaptation (for the surgical fine-tune).</summary>
    public int ShiftedLabelsPerClass { get; init; } = 14;

    /// <summary>Drift test window (unlabelled predictions).</summary>
    public int DriftWindow { get; init; } = 60;
}
