using System.CommandLine;
using System.Text.Json;
using EdgeTL.Runtime.Data;
using EdgeTL.Trainer.Backbones;

namespace EdgeTL.Cloud;

/// <summary>What <c>package</c> builds from: the model, its labels and input size, the golden images, and where the data came from.</summary>
internal sealed record PackageSource(string Architecture, string Weights, List<string> Labels, int InputSize, LabeledImageSet Golden, string Dataset, string DatasetShortName)
{
    /// <summary>The import folder of an imported graph the model's backbone is (null: a zoo architecture).</summary>
    public string? ImportFolder { get; init; }

    /// <summary>True when <see cref="ImportFolder"/>'s backbone comes with its weights already (an import folder's graph), so <see cref="Weights"/> is not loaded again.</summary>
    public bool BackboneHasWeights { get; init; }

    /// <summary>The pixels the model takes (<see cref="Cloud.ImportFolder.ImageNetPixels"/> or <see cref="Cloud.ImportFolder.RawPixels"/>).</summary>
    public string Pixels { get; init; } = Cloud.ImportFolder.ImageNetPixels;
}

/// <summary>A <c>train</c> output folder as a package source: model.bin, report.json and golden/ (validation images, one per class).</summary>
internal static class TrainedSource
{
    public static PackageSource Read(string folder, ParseResult parse, IEnumerable<Option> conflicting)
    {
        var given = conflicting.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (given.Count > 0)
            throw CloudCliException.InvalidArguments($"--from-train takes the model, classes, input size and golden images from the training run: {string.Join(", ", given)} do not apply.");
        string report = Path.Combine(folder, "report.json"), model = Path.Combine(folder, "model.bin"), golden = Path.Combine(folder, "golden");
        foreach (var path in new[] { report, model, golden })
        {
            if (!File.Exists(path) && !Directory.Exists(path))
                throw new CloudCliException(ExitCodes.DataError, $"--from-train: '{path}' does not exist (a train output folder holds model.bin, report.json and golden/).");
        }
        using var document = JsonDocument.Parse(File.ReadAllText(report));
        var root = document.RootElement;
        string architecture = root.GetProperty("architecture").GetString()!;
        string? importFolder = root.TryGetProperty("importFolder", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        if (importFolder is null || Cloud.ImportFolder.Read(importFolder).Format != "onnx")
        {
            importFolder = null;
            BackboneZoo.EnsureKnown(architecture);
        }
        string pixels = root.TryGetProperty("pixels", out var p) ? p.GetString()! : Cloud.ImportFolder.ImageNetPixels;
        var labels = root.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).ToList();
        int inputSize = root.GetProperty("inputSize").GetInt32();
        var goldenImages = ImageFolderReader.Read(golden, inputSize, inputSize);
        if (!goldenImages.ClassNames.SequenceEqual(labels.Where(l => Directory.Exists(Path.Combine(golden, l)))))
            throw new CloudCliException(ExitCodes.DataError, $"--from-train: the golden folders ({string.Join(", ", goldenImages.ClassNames)}) are not the run's classes ({string.Join(", ", labels)}).");
        var remapped = new LabeledImageSet(goldenImages.Pixels, [.. goldenImages.Labels.Select(l => labels.IndexOf(goldenImages.ClassNames[l]))],
            inputSize, inputSize, goldenImages.Channels, labels);
        string data = root.GetProperty("data").GetString()!;
        string shortName = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(data))).ToLowerInvariant();
        return new PackageSource(architecture, model, labels, inputSize, remapped, data, shortName) { ImportFolder = importFolder, Pixels = pixels };
    }
}
