using System.Text.RegularExpressions;

namespace EdgeTL.Runtime.Packaging;

/// <summary>
/// <c>manifest.json</c> of a model package (schema 1): what the model is, how to feed it, every
/// file with its SHA-256 and size, where it came from, and golden inputs for health checks.
/// The detached signature covers the manifest's exact bytes, and the manifest covers every file.
/// </summary>
public sealed partial record ModelManifest
{
    /// <summary>The schema this code writes and reads.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>Schema version; only 1 exists.</summary>
    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    /// <summary>Model name, e.g. <c>fmnist-resnet18</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Backbone architecture, e.g. <c>resnet18</c>.</summary>
    public required string Architecture { get; init; }

    /// <summary>Semantic version, e.g. <c>1.4.0</c>.</summary>
    public required string Version { get; init; }

    /// <summary>Monotonic counter: a device refuses a package whose counter is lower than the installed one.</summary>
    public required long Counter { get; init; }

    /// <summary>How inputs are prepared.</summary>
    public required InputSpec Input { get; init; }

    /// <summary>Width of the backbone's pooled features.</summary>
    public required int FeatureDim { get; init; }

    /// <summary>Class labels, in output order.</summary>
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>Layer groups (stem … stage4, head) with their parameter counts, for the trainer.</summary>
    public IReadOnlyList<LayerGroupInfo> LayerGroups { get; init; } = [];

    /// <summary>Every file of the package except the manifest and its signature.</summary>
    public required IReadOnlyList<PackageFile> Files { get; init; }

    /// <summary>Where the weights came from.</summary>
    public Provenance? Provenance { get; init; }

    /// <summary>Metrics measured before shipping (accuracy, transfer gain …).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>Golden inputs with expected outputs, for a health check after install.</summary>
    public GoldenSet? Golden { get; init; }

    /// <summary>The int8 backbone the package also carries (file roles <c>backbone-int8</c> and <c>golden-outputs-int8</c>): how it was calibrated, its golden tolerance, the accuracy it kept, and the budget a device holds it to; null when there is none.</summary>
    public Int8Backbone? Quantized { get; init; }

    /// <summary>Set on a version made on the device (see <see cref="ModelStore.InstallLocal"/>); null on a shipped package.</summary>
    public DeviceOrigin? DeviceMade { get; init; }

    /// <summary>The file with <paramref name="role"/>, or null.</summary>
    public PackageFile? FileFor(string role) => Files.FirstOrDefault(f => f.Role == role);

    /// <summary>Checks the manifest's own consistency (not the files); returns the problems found.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (SchemaVersion != CurrentSchemaVersion)
            problems.Add($"schema version {SchemaVersion} (this device reads {CurrentSchemaVersion})");
        if (string.IsNullOrWhiteSpace(Name))
            problems.Add("empty name");
        if (!SemVer().IsMatch(Version ?? ""))
            problems.Add($"version '{Version}' is not semantic (major.minor.patch)");
        if (Counter < 1)
            problems.Add($"counter {Counter} < 1");
        if (FeatureDim < 1)
            problems.Add($"feature dim {FeatureDim} < 1");
        if (Labels is null || Labels.Count < 1)
            problems.Add("no labels");
        problems.AddRange(Input?.Problems() ?? ["no input spec"]);
        if (Files is null || Files.Count == 0)
            problems.Add("no files");
        else
        {
            foreach (var f in Files)
            {
                if (PackagePaths.Problem(f.Path) is string p)
                    problems.Add($"file '{f.Path}': {p}");
                if (f.Size < 0 || f.Sha256 is null || !Sha256Hex().IsMatch(f.Sha256))
                    problems.Add($"file '{f.Path}': bad size or SHA-256");
            }
            if (Files.Select(f => f.Path).Distinct(StringComparer.Ordinal).Count() != Files.Count)
                problems.Add("a file is listed twice");
        }
        if (FileFor(PackageFileRoles.Backbone) is null)
            problems.Add("no backbone file");
        bool int8Files = FileFor(PackageFileRoles.BackboneInt8) is not null && FileFor(PackageFileRoles.GoldenOutputsInt8) is not null;
        if (Quantized is null && (FileFor(PackageFileRoles.BackboneInt8) is not null || FileFor(PackageFileRoles.GoldenOutputsInt8) is not null))
            problems.Add("an int8 backbone file without the manifest's int8 section");
        if (Quantized is not null)
        {
            if (!int8Files)
                problems.Add("an int8 section without both the int8 backbone and its golden outputs");
            problems.AddRange(Quantized.Problems());
        }
        return problems;
    }

    [GeneratedRegex(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")]
    private static partial Regex SemVer();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();
}

/// <summary>How raw images become the model's input.</summary>
public sealed record InputSpec
{
    /// <summary>Square input side in pixels.</summary>
    public required int Size { get; init; }

    /// <summary>Channels the model reads (3, or 1).</summary>
    public int Channels { get; init; } = 3;

    /// <summary><c>RGB</c> or <c>BGR</c>.</summary>
    public string ChannelOrder { get; init; } = "RGB";

    /// <summary>Per-channel mean in the model's channel order, on pixels scaled to [0, 1].</summary>
    public required IReadOnlyList<float> Mean { get; init; }

    /// <summary>Per-channel standard deviation in the model's channel order.</summary>
    public required IReadOnlyList<float> Std { get; init; }

    /// <summary><c>stretch</c>: bilinear resize of the (cropped) image to Size×Size.</summary>
    public string Resize { get; init; } = "stretch";

    /// <summary>Centre-crop fraction applied before resizing (1 = no crop).</summary>
    public float CenterCropFraction { get; init; } = 1f;

    /// <summary>The input's problems, if any.</summary>
    public IEnumerable<string> Problems()
    {
        if (Size < 1)
            yield return $"input size {Size}";
        if (Channels is not (1 or 3))
            yield return $"{Channels} channels";
        if (ChannelOrder is not ("RGB" or "BGR"))
            yield return $"channel order '{ChannelOrder}'";
        if (Mean is null || Std is null || Mean.Count != Channels || Std.Count != Channels || Std.Any(s => !(s > 0)))
            yield return "mean/std do not match the channels or a std is not positive";
        if (Resize != "stretch")
            yield return $"resize policy '{Resize}'";
        if (!(CenterCropFraction > 0 && CenterCropFraction <= 1))
            yield return $"centre-crop fraction {CenterCropFraction}";
    }
}

/// <summary>One file of a package.</summary>
/// <param name="Path">Relative path with '/' separators.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the content.</param>
/// <param name="Size">Bytes.</param>
/// <param name="Role">What it is (see <see cref="PackageFileRoles"/>).</param>
public sealed record PackageFile(string Path, string Sha256, long Size, string Role);

/// <summary>The roles files play in a package.</summary>
public static class PackageFileRoles
{
    /// <summary>Backbone ONNX, fp32: images → pooled features.</summary>
    public const string Backbone = "backbone";

    /// <summary>Backbone ONNX, fp16 variant for GPU serving.</summary>
    public const string BackboneFloat16 = "backbone-fp16";

    /// <summary>Head ONNX: features → logits.</summary>
    public const string Head = "head";

    /// <summary>Trainer weights (safetensors).</summary>
    public const string Weights = "weights";

    /// <summary>Golden inputs, float32 little-endian NCHW.</summary>
    public const string GoldenInputs = "golden-inputs";

    /// <summary>Expected backbone features of the golden inputs, float32 little-endian.</summary>
    public const string GoldenOutputs = "golden-outputs";

    /// <summary>Backbone ONNX, calibrated int8 (QDQ): served on CPUs when the device's gate lets it.</summary>
    public const string BackboneInt8 = "backbone-int8";

    /// <summary>Expected int8 backbone features of the golden inputs, float32 little-endian.</summary>
    public const string GoldenOutputsInt8 = "golden-outputs-int8";

    /// <summary>Meta-learned initialization of the seed head for cold start (safetensors, optional).</summary>
    public const string HeadInitialization = "head-init";
}

/// <summary>A layer group and its size.</summary>
public sealed record LayerGroupInfo(string Name, long Parameters);

/// <summary>Where a model came from.</summary>
public sealed record Provenance
{
    /// <summary>When the package was built (UTC).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The tool and version that built it.</summary>
    public string Tool { get; init; } = "";

    /// <summary>Training data, e.g. <c>fashion-mnist classes 0-4</c>.</summary>
    public string Dataset { get; init; } = "";

    /// <summary>The model this one was fine-tuned from, if any.</summary>
    public string? BaseModel { get; init; }

    /// <summary>Training epochs.</summary>
    public int Epochs { get; init; }
}

/// <summary>Golden inputs and the backbone features they must produce.</summary>
/// <param name="Count">Number of inputs.</param>
/// <param name="Tolerance">Allowed max |Δ| of a feature.</param>
public sealed record GoldenSet(int Count, double Tolerance);

/// <summary>
/// What a package says about its int8 backbone: how it was calibrated, the golden tolerance of its own golden
/// features, the held-out accuracy it kept against fp32 where it was built, and the most accuracy a device lets it lose.
/// </summary>
public sealed record Int8Backbone
{
    /// <summary>Calibration method: <c>minmax</c>, <c>percentile</c> or <c>entropy</c>.</summary>
    public required string Method { get; init; }

    /// <summary>Images the activation ranges were calibrated on.</summary>
    public required int CalibrationImages { get; init; }

    /// <summary>Where the calibration images came from, e.g. <c>train/ of the run</c> or <c>device samples</c>.</summary>
    public string CalibrationSource { get; init; } = "";

    /// <summary>Allowed max |Δ| between the int8 golden features and the device's (int8 kernels differ a little between CPUs).</summary>
    public required double GoldenTolerance { get; init; }

    /// <summary>The most held-out accuracy, in points, the int8 backbone may lose against fp32 on the device (its gate's tolerance).</summary>
    public double AccuracyBudgetPoints { get; init; } = 1.0;

    /// <summary>Held-out images the builder scored fp32 and int8 on (0 when it did not score).</summary>
    public int ScoredImages { get; init; }

    /// <summary>The fp32 backbone's accuracy on those images.</summary>
    public double? Fp32Accuracy { get; init; }

    /// <summary>The int8 backbone's accuracy on the same images.</summary>
    public double? Int8Accuracy { get; init; }

    /// <summary>The section's problems, if any.</summary>
    public IEnumerable<string> Problems()
    {
        if (Method is not ("minmax" or "percentile" or "entropy"))
            yield return $"int8 calibration method '{Method}'";
        if (CalibrationImages < 1)
            yield return $"int8 calibrated on {CalibrationImages} images";
        if (!(GoldenTolerance > 0 && double.IsFinite(GoldenTolerance)))
            yield return $"int8 golden tolerance {GoldenTolerance}";
        if (!(AccuracyBudgetPoints is >= 0 and <= 100))
            yield return $"int8 accuracy budget {AccuracyBudgetPoints} points (0 to 100)";
    }
}
