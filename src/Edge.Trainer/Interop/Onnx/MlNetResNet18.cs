using Google.Protobuf;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Preprocessing;

namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>
/// ML.NET's ImageNet-pretrained ResNet-18, as NuGet ships it (<see cref="PackageId"/>
/// <see cref="PackageVersion"/>): a CNTK export of the backbone (fixed 224×224, 512 features) and a
/// preprocessing graph (RGB→BGR, subtract the ImageNet mean image). Chained, the model takes raw RGB
/// pixels in 0–255, not the usual mean/std normalization; <see cref="PipelineOptions"/> says so, and
/// the default <see cref="ImagePipelineOptions"/> would feed it silently wrong inputs.
/// </summary>
/// <remarks>
/// The files come from NuGet's package folder. A project gets them without a reference to ML.NET with
/// <c>&lt;PackageDownload Include="Microsoft.ML.DnnImageFeaturizer.ResNet18" Version="[0.23.1]" /&gt;</c>;
/// <c>EDGETL_DNN_IMAGE_MODELS</c>, or the <c>modelsDirectory</c> argument, points at a copy elsewhere.
/// </remarks>
public static class MlNetResNet18
{
    /// <summary>The NuGet package holding the model files.</summary>
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>The package version whose files this class knows.</summary>
    public const string PackageVersion = "0.23.1";

    /// <summary>Environment variable naming the <c>DnnImageModels</c> folder, where the package folder is not used.</summary>
    public const string DirectoryVariable = "EDGETL_DNN_IMAGE_MODELS";

    /// <summary>The fixed input side.</summary>
    public const int InputSize = 224;

    /// <summary>Features per image.</summary>
    public const int FeatureDim = 512;

    /// <summary>The pipeline the chained model needs: 224×224, raw 0–255 RGB pixels (its own graph subtracts the mean image).</summary>
    public static ImagePipelineOptions PipelineOptions => new()
    {
        InputSize = InputSize,
        Normalization = new Normalization([0f, 0f, 0f], [1 / 255f, 1 / 255f, 1 / 255f]),
    };

    /// <summary>
    /// The <c>DnnImageModels</c> folder: <paramref name="modelsDirectory"/> when given, else
    /// <see cref="DirectoryVariable"/>, else the package in NuGet's folder (<c>NUGET_PACKAGES</c> or
    /// <c>~/.nuget/packages</c>). Throws, saying how to get the files, when none holds them.
    /// </summary>
    public static string FindModelsDirectory(string? modelsDirectory = null)
    {
        var candidates = new List<string>();
        if (modelsDirectory is not null)
            candidates.Add(modelsDirectory);
        else
        {
            if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } fromVariable)
                candidates.Add(fromVariable);
            string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } root ? root
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            candidates.Add(Path.Combine(packages, PackageId.ToLowerInvariant(), PackageVersion, "tools", "DnnImageModels"));
        }
        return candidates.FirstOrDefault(d => File.Exists(BackbonePath(d)) && File.Exists(PreprocessPath(d)))
            ?? throw new EdgeTrainerException(TrainerErrorCode.InvalidOnnxModel,
                $"ML.NET's ResNet-18 files are not in {string.Join(" or ", candidates.Select(c => $"'{c}'"))}. Add <PackageDownload Include=\"{PackageId}\" Version=\"[{PackageVersion}]\" /> " +
                $"to the project and restore, or set {DirectoryVariable} to a folder holding ResNet18Onnx/ResNet18.onnx and ResNetPrepOnnx/ResNetPreprocess.onnx.");
    }

    /// <summary>The backbone graph in <paramref name="modelsDirectory"/>.</summary>
    public static string BackbonePath(string modelsDirectory) => Path.Combine(modelsDirectory, "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>The preprocessing graph in <paramref name="modelsDirectory"/>.</summary>
    public static string PreprocessPath(string modelsDirectory) => Path.Combine(modelsDirectory, "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    /// <summary>Preprocessing chained in front of the backbone, as one ONNX model: [N, 3, 224, 224] of 0–255 RGB in, [N, 512, 1, 1] out.</summary>
    public static byte[] ChainedOnnx(string? modelsDirectory = null)
    {
        string directory = FindModelsDirectory(modelsDirectory);
        return OnnxModels.Chain(File.ReadAllBytes(PreprocessPath(directory)), File.ReadAllBytes(BackbonePath(directory)));
    }

    /// <summary>
    /// The backbone as <c>edgetl-cloud import --from ResNet18.onnx --preprocess ResNetPreprocess.onnx</c> ships it
    /// (<see cref="OnnxModels.ShippedBackbone"/>): the chained graph with any batch, where ML.NET's own files fix it at 1, and
    /// features [N, 512].
    /// </summary>
    public static byte[] ShippedOnnx(string? modelsDirectory = null)
    {
        using var module = ImportBackbone(modelsDirectory);
        return OnnxModels.ShippedBackbone(module).ToByteArray();
    }

    /// <summary>The chained model for ONNX Runtime: frozen feature extraction.</summary>
    public static OnnxModel LoadForInference(string? modelsDirectory = null, OnnxModelOptions? options = null) =>
        OnnxModel.Load(ChainedOnnx(modelsDirectory), options);

    /// <summary>The chained model as a TorchSharp module with its pretrained weights: fine-tuning, progressive unfreezing.</summary>
    public static OnnxGraphModule ImportBackbone(string? modelsDirectory = null, OnnxImportOptions? options = null) =>
        OnnxImporter.ImportBackbone(ChainedOnnx(modelsDirectory), "ML.NET ResNet18", options);
}
