using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Runtime.Preprocessing;

namespace EdgeTL.Trainer.Packaging;

/// <summary>What goes into a model package besides the model itself.</summary>
public sealed record PackageRequest
{
    /// <summary>Model name.</summary>
    public required string Name { get; init; }

    /// <summary>Semantic version.</summary>
    public required string Version { get; init; }

    /// <summary>Monotonic counter (devices refuse lower ones).</summary>
    public required long Counter { get; init; }

    /// <summary>Class labels in output order.</summary>
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>The preprocessing the model was trained with; becomes the manifest's input spec.</summary>
    public required ImagePipelineOptions Input { get; init; }

    /// <summary>Images whose preprocessed pixels and backbone features become the golden health check.</summary>
    public required LabeledImageSet GoldenImages { get; init; }

    /// <summary>How many golden images to take.</summary>
    public int GoldenCount { get; init; } = 4;

    /// <summary>Also ship the fp16 backbone for GPU serving.</summary>
    public bool IncludeFloat16 { get; init; } = true;

    /// <summary>Where the weights came from.</summary>
    public Provenance? Provenance { get; init; }

    /// <summary>Metrics measured before shipping.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>Write the directory form instead of one tar file.</summary>
    public bool AsDirectory { get; init; }
    /// <summary>A meta-learned head initialization to ship for cold start (file role <c>head-init</c>).</summary>
    public EdgeTL.Trainer.Meta.MetaInitialization? HeadInitialization { get; init; }
}
