using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeTL.Runtime;
using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Cloud;

/// <summary>
/// <c>evaluate</c>: a signed package scored on labelled images exactly as a device serves it: the
/// package is verified and installed, each image file is decoded and normalized by the runtime's
/// pipeline from the package's input spec, and ONNX Runtime runs its backbone and head. The figure is
/// the package's own, not the training run's, so a mismatch between how training read the images and
/// how a device reads them shows here. Prints the accuracy with n, per class, and every image's class.
/// </summary>
internal static class EvaluateCommand
{
    private const int Batch = 16;

    public static Command Create()
    {
        var packageOption = new Option<string>("--package") { Description = "The package file (.tar) or folder.", Required = true };
        var trusted = new Option<string>("--trusted") { Description = "Trusted public keys: a folder of *.pem, or one .pem file.", Required = true };
        var data = new Option<string>("--data")
        {
            Description = "Labelled images: one folder per class, named as the package's labels; a folder with train/ and val/ is scored on val/.",
            Required = true,
        };
        var json = CommonOptions.Json();
        var command = new Command("evaluate", "Score a signed package on labelled images as a device runs it: accuracy with n, per class, and each image's prediction.")
        {
            packageOption, trusted, data, json,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, _ =>
        {
            using var package = ScoredPackage.Open(parse.GetValue(packageOption)!, parse.GetValue(trusted)!, "evaluate");
            var manifest = package.Installed.Manifest;
            string root = ScoredFolder(parse.GetValue(data)!);
            var files = LabelledFiles(root, manifest.Labels);
            var (scored, skipped) = Predict(package.Predictor, root, files, cancellationToken);
            var summary = EvaluationSummary.Create(Path.GetFullPath(parse.GetValue(packageOption)!), manifest, root, manifest.Labels, scored, skipped);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
                output.WriteLine(JsonSerializer.Serialize(summary, CliJson.Default.EvaluationSummary));
            else
                EvaluationSummary.Print(summary, output);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>The folder whose class folders are scored: <c>val/</c> when the folder has <c>train/</c> and <c>val/</c>.</summary>
    internal static string ScoredFolder(string data)
    {
        if (!Directory.Exists(data))
            throw new CloudCliException(ExitCodes.DataError, $"Image folder '{data}' does not exist.");
        string val = Path.Combine(data, "val");
        return Directory.Exists(Path.Combine(data, "train")) && Directory.Exists(val) ? Path.GetFullPath(val) : Path.GetFullPath(data);
    }

    /// <summary>Image files under <c>root/&lt;label&gt;/</c>, in label then ordinal order; a class folder the package does not know is an error.</summary>
    internal static List<(string File, int Label)> LabelledFiles(string root, IReadOnlyList<string> labels)
    {
        var folders = Directory.GetDirectories(root).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToList();
        var unknown = folders.Where(f => !labels.Contains(f, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
            throw new CloudCliException(ExitCodes.DataError,
                $"Class folder(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))} in '{root}' are not labels of the package ({string.Join(", ", labels)}).");
        var files = new List<(string, int)>();
        for (int label = 0; label < labels.Count; label++)
        {
            string folder = Path.Combine(root, labels[label]);
            if (!Directory.Exists(folder))
                continue;
            files.AddRange(Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal)
                .Where(f => ImageFolderReader.Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Select(f => (f, label)));
        }
        if (files.Count == 0)
            throw new CloudCliException(ExitCodes.DataError, $"'{root}' has no images in folders named as the package's labels ({string.Join(", ", labels)}).");
        return files;
    }

    /// <summary>Predictions in batches; a batch with a file that does not decode is redone image by image, that file skipped and named.</summary>
    internal static (List<ScoredImage> Scored, List<string> Skipped) Predict(Predictor predictor, string root, List<(string File, int Label)> files, CancellationToken cancellationToken)
    {
        var scored = new List<ScoredImage>();
        var skipped = new List<string>();
        foreach (var chunk in files.Chunk(Batch))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var bytes = chunk.Select(f => File.ReadAllBytes(f.File)).ToArray();
            IReadOnlyList<Prediction> predictions;
            try
            {
                predictions = predictor.PredictEncoded(bytes);
            }
            catch (EdgeRuntimeException)
            {
                for (int i = 0; i < chunk.Length; i++)
                {
                    try
                    {
                        Add(chunk[i], predictor.PredictEncoded([bytes[i]])[0]);
                    }
                    catch (EdgeRuntimeException e)
                    {
                        skipped.Add($"{chunk[i].File}: {e.Message}");
                    }
                }
                continue;
            }
            for (int i = 0; i < chunk.Length; i++)
                Add(chunk[i], predictions[i]);
        }
        return (scored, skipped);

        void Add((string File, int Label) image, Prediction p) =>
            scored.Add(new ScoredImage(Path.GetRelativePath(root, image.File).Replace('\\', '/'), image.Label, p.ClassIndex, Math.Round(p.Confidence, 6)));
    }
}

/// <summary>One scored image of <c>evaluate</c>: its path under the scored folder, true and predicted class, and the confidence.</summary>
internal sealed record ScoredImage(string File, int Label, int Predicted, double Confidence);

/// <summary>What <c>evaluate</c> prints: the package, the images it was scored on, and the result.</summary>
internal sealed record EvaluationSummary(string Package, string Name, string Version, long Counter, string Data, IReadOnlyList<string> Labels,
    int Images, int Correct, double Accuracy, IReadOnlyList<double?> PerClassAccuracy, IReadOnlyList<ScoredImage> Predictions, IReadOnlyList<string> Skipped)
{
    public static EvaluationSummary Create(string package, ModelManifest manifest, string data, IReadOnlyList<string> labels,
        List<ScoredImage> scored, List<string> skipped)
    {
        if (scored.Count == 0)
            throw new CloudCliException(ExitCodes.DataError, $"No image in '{data}' could be decoded ({skipped.Count} skipped: {string.Join("; ", skipped.Take(3))}).");
        int correct = scored.Count(s => s.Label == s.Predicted);
        var perClass = Enumerable.Range(0, labels.Count).Select(c =>
        {
            var of = scored.Where(s => s.Label == c).ToList();
            return of.Count == 0 ? (double?)null : (double)of.Count(s => s.Predicted == c) / of.Count;
        }).ToList();
        return new EvaluationSummary(package, manifest.Name, manifest.Version, manifest.Counter, data, labels, scored.Count, correct,
            (double)correct / scored.Count, perClass, scored, skipped);
    }

    public static void Print(EvaluationSummary s, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(c, $"{s.Name} {s.Version} (counter {s.Counter}) on {s.Data}: {s.Accuracy:P1} ({s.Correct} of {s.Images} images)"));
        for (int label = 0; label < s.Labels.Count; label++)
        {
            int n = s.Predictions.Count(p => p.Label == label);
            output.WriteLine(s.PerClassAccuracy[label] is { } a
                ? string.Create(c, $"  {s.Labels[label],-20} {a,7:P1}  (n={n})")
                : $"  {s.Labels[label],-20}       –  (no images)");
        }
        foreach (var skip in s.Skipped)
            output.WriteLine($"  skipped {skip}");
    }
}
