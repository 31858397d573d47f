using System.Text.Json;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop;
using EdgeTL.Trainer.Interop.Onnx;

namespace EdgeTL.Cloud;

/// <summary>
/// An <c>import</c> output folder as later verbs read it: <c>backbone.onnx</c>, <c>weights.safetensors</c> and
/// <c>import.json</c> (what was imported, its fixed input size if any, and the pixels it expects).
/// </summary>
internal static class ImportFolder
{
    /// <summary>Pixels normalized with ImageNet's mean and std (torchvision's backbones).</summary>
    public const string ImageNetPixels = "imagenet";

    /// <summary>Raw 0–255 RGB pixels (a graph that normalizes itself, e.g. with a preprocessing graph chained in front).</summary>
    public const string RawPixels = "raw";

    public const string SummaryFile = "import.json";

    /// <summary>The import's summary, or a clear error when the folder is not an import output.</summary>
    public static ImportSummary Read(string folder)
    {
        string summary = Path.Combine(folder, SummaryFile), onnx = Path.Combine(folder, "backbone.onnx");
        foreach (var path in new[] { onnx, summary })
        {
            if (!File.Exists(path))
                throw new CloudCliException(ExitCodes.DataError, $"'{path}' does not exist: an import output folder holds backbone.onnx, weights.safetensors and {SummaryFile}.");
        }
        return JsonSerializer.Deserialize(File.ReadAllText(summary), CliJson.Default.ImportSummary)
            ?? throw new CloudCliException(ExitCodes.DataError, $"'{summary}' is empty.");
    }

    /// <summary>The pipeline normalization of <paramref name="pixels"/>.</summary>
    public static Normalization Normalization(string pixels) => pixels switch
    {
        RawPixels => new Normalization([0f, 0f, 0f], [1 / 255f, 1 / 255f, 1 / 255f]),
        ImageNetPixels => Runtime.Preprocessing.Normalization.ImageNet,
        _ => throw CloudCliException.InvalidArguments($"Pixels '{pixels}': expected {ImageNetPixels} or {RawPixels}."),
    };

    /// <summary>The imported graph as a trainable backbone, with its saved weights.</summary>
    public static OnnxGraphModule Backbone(string folder)
    {
        string onnx = Path.Combine(folder, "backbone.onnx"), weights = Path.Combine(folder, "weights.safetensors");
        if (!File.Exists(onnx))
            throw new CloudCliException(ExitCodes.DataError, $"'{onnx}' does not exist (an import output folder holds backbone.onnx and weights.safetensors).");
        var module = OnnxImporter.ImportBackbone(onnx, new OnnxImportOptions { Name = Path.GetFileName(Path.GetFullPath(folder)) });
        if (File.Exists(weights))
        {
            var state = SafeTensors.Load(weights);
            try
            {
                StateDictLoader.Load(module, state);
            }
            finally
            {
                foreach (var t in state.Values)
                    t.Dispose();
            }
        }
        module.eval();
        return module;
    }

    /// <summary>The input side a backbone takes: its fixed size, else <paramref name="requested"/>.</summary>
    public static int InputSize(IBackbone backbone, int requested) =>
        backbone.MinInputSize > BackboneZoo.MinInputSize ? backbone.MinInputSize : requested;
}
