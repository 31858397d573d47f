using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeTL.Runtime;
using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Interop.Onnx.Quantization;

namespace EdgeTL.Cloud;

/// <summary>
/// <c>quantize</c>: a signed package's backbone as calibrated int8 (QDQ ONNX), by each calibration method, scored as a device
/// runs it: accuracy on held-out labelled images against the fp32 backbone's, with n, and ONNX Runtime's img/s for both.
/// </summary>
internal static class QuantizeCommand
{
    private const int SpeedBatch = 16;

    public static Command Create()
    {
        var packageOption = new Option<string?>("--package") { Description = "The package file (.tar) or folder whose backbone to quantize (scored through its head)." };
        var from = new Option<string?>("--from") { Description = "Or an import output folder: its backbone, scored headless by nearest class centroid (fitted on --data's train/, scored on val/)." };
        var trusted = new Option<string?>("--trusted") { Description = "Trusted public keys for --package: a folder of *.pem, or one .pem file." };
        var calibration = new Option<string>("--calibration") { Description = "Images to calibrate on (any folder of images, searched recursively); never the images scored.", Required = true };
        var data = new Option<string>("--data") { Description = "Held-out labelled images to score on: one folder per label (a folder with train/ and val/ is scored on val/; --from needs both).", Required = true };
        var method = new Option<string>("--method") { Description = "minmax, percentile, entropy, or all.", DefaultValueFactory = _ => "all" };
        var count = new Option<int>("--calibration-images") { Description = "Most calibration images used (spread over the folder).", DefaultValueFactory = _ => 64 };
        var size = CommonOptions.InputSize();
        var output = new Option<string?>("--out") { Description = "Folder to write each method's int8 backbone to (backbone.int8.<method>.onnx)." };
        var json = CommonOptions.Json();
        var command = new Command("quantize", "Quantize a package's (or an import's) backbone to int8 (QDQ) with calibrated ranges; print each method's held-out accuracy and speed against fp32.")
        {
            packageOption, from, trusted, calibration, data, method, count, size, output, json,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, ct =>
        {
            var methods = Methods(parse.GetValue(method)!);
            if (parse.GetValue(count) < 1)
                throw CloudCliException.InvalidArguments("--calibration-images must be at least 1.");
            if ((parse.GetValue(packageOption) is null) == (parse.GetValue(from) is null))
                throw CloudCliException.InvalidArguments("Give --package (a signed package, with --trusted) or --from (an import folder), one of them.");
            var console = new CliConsole(parse, parse.GetValue(json));
            using IQuantizeScorer scorer = parse.GetValue(packageOption) is { } package
                ? PackageScorer.Open(package, parse.GetValue(trusted) ?? throw CloudCliException.InvalidArguments("--package needs --trusted (the keys to verify it with)."), parse.GetValue(data)!, ct)
                : CentroidScorer.Open(parse.GetValue(from)!, parse.GetValue(size), parse.GetValue(data)!, ct);
            var (batches, calibrationSkipped) = CalibrationBatches(parse.GetValue(calibration)!, scorer.Pipeline, parse.GetValue(count),
                scorer.ScoredFiles.Select(f => Path.GetFullPath(f.File)).ToHashSet(StringComparer.Ordinal));
            int calibrationImages = batches.Sum(b => b.Shape[0]);
            console.Line($"{scorer.Name}: calibrating on {calibrationImages} images from {parse.GetValue(calibration)}, scoring on {scorer.ScoredFiles.Count} held-out images in {scorer.ScoredFolder}{scorer.How}");
            foreach (var skip in calibrationSkipped)
                console.Line($"  skipped {skip}");

            // fp32 and every int8 variant load the same way, so their speeds compare.
            byte[] fp32 = scorer.Fp32Backbone;
            QuantizedRow Measure(string name, byte[] backbone)
            {
                using var model = OnnxModel.Load(backbone);
                var (accuracy, scored, cosine) = scorer.Score(model, ct);
                return new QuantizedRow(name, accuracy, scored, ImagesPerSecond(model, batches[0]), null) { FeatureCosine = cosine };
            }
            var baseline = Measure("fp32", fp32);
            console.Line(Row(baseline, baseline));
            var rows = new List<QuantizedRow>();
            foreach (var m in methods)
            {
                var quantized = OnnxQuantizer.Quantize(fp32, batches, new QuantizationOptions { Method = m });
                var row = Measure(m.ToString().ToLowerInvariant(), quantized.Model);
                if (parse.GetValue(output) is { } outDir)
                {
                    Directory.CreateDirectory(outDir);
                    row = row with { File = Path.GetFullPath(Path.Combine(outDir, $"backbone.int8.{row.Method}.onnx")) };
                    File.WriteAllBytes(row.File, quantized.Model);
                }
                rows.Add(row);
                console.Line(Row(row, baseline));
            }
            if (parse.GetValue(json))
            {
                var summary = new QuantizeSummary(scorer.Source, calibrationImages, scorer.ScoredFiles.Count, baseline, rows);
                console.Out.WriteLine(JsonSerializer.Serialize(summary, CliJson.Default.QuantizeSummary));
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    internal static CalibrationMethod[] Methods(string method) => method.ToLowerInvariant() switch
    {
        "all" => [CalibrationMethod.MinMax, CalibrationMethod.Percentile, CalibrationMethod.Entropy],
        "minmax" => [CalibrationMethod.MinMax],
        "percentile" => [CalibrationMethod.Percentile],
        "entropy" => [CalibrationMethod.Entropy],
        _ => throw CloudCliException.InvalidArguments($"--method '{method}': expected minmax, percentile, entropy or all."),
    };

    /// <summary>Up to <paramref name="most"/> images spread over the folder, decoded and preprocessed as the device does, in batches of 16.</summary>
    internal static (List<(float[] Values, int[] Shape)> Batches, List<string> Skipped) CalibrationBatches(string folder, ImagePipeline pipeline, int most, HashSet<string> scored)
    {
        if (!Directory.Exists(folder))
            throw new CloudCliException(ExitCodes.DataError, $"Calibration folder '{folder}' does not exist.");
        var all = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => ImageFolderReader.Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToList();
        var overlap = all.Where(f => scored.Contains(Path.GetFullPath(f))).Take(3).ToList();
        if (overlap.Count > 0)
            throw CloudCliException.InvalidArguments($"The calibration images include images that are scored ({string.Join(", ", overlap)}): calibrate on other images, or the accuracy is not held out.");
        var picked = all.Count <= most ? all : [.. Enumerable.Range(0, most).Select(i => all[(int)((long)i * all.Count / most)])];
        var decoder = new ImageDecoder();
        var skipped = new List<string>();
        var samples = new List<float[]>();
        foreach (var file in picked)
        {
            try
            {
                var (rgb, height, width) = decoder.Decode(File.ReadAllBytes(file));
                var sample = new float[pipeline.SampleLength];
                pipeline.Process(rgb.Span, height, width, 3, sample, null);
                samples.Add(sample);
            }
            catch (EdgeRuntimeException e)
            {
                skipped.Add($"{file}: {e.Message}");
            }
        }
        if (samples.Count == 0)
            throw new CloudCliException(ExitCodes.DataError, $"No calibration image in '{folder}' could be decoded ({all.Count} image files, {skipped.Count} skipped).");
        int side = pipeline.Options.InputSize;
        return ([.. samples.Chunk(SpeedBatch).Select(chunk => (chunk.SelectMany(s => s).ToArray(), new[] { chunk.Length, 3, side, side }))], skipped);
    }

    /// <summary>Accuracy of <paramref name="predictor"/> on the labelled <paramref name="files"/>, and how many were scored.</summary>
    internal static (double Accuracy, int Scored) Accuracy(Predictor predictor, string root, List<(string File, int Label)> files, CancellationToken ct)
    {
        var (scored, skipped) = EvaluateCommand.Predict(predictor, root, files, ct);
        if (scored.Count == 0)
            throw new CloudCliException(ExitCodes.DataError, $"No scored image could be decoded ({skipped.Count} skipped).");
        return ((double)scored.Count(s => s.Predicted == s.Label) / scored.Count, scored.Count);
    }

    private static double ImagesPerSecond(OnnxModel backbone, (float[] Values, int[] Shape) input)
    {
        backbone.Run(input.Values, input.Shape);
        var clock = Stopwatch.StartNew();
        int images = 0;
        while (clock.Elapsed.TotalSeconds < 2 || images == 0)
        {
            backbone.Run(input.Values, input.Shape);
            images += input.Shape[0];
        }
        return images / clock.Elapsed.TotalSeconds;
    }

    private static string Row(QuantizedRow row, QuantizedRow fp32)
    {
        string line = string.Create(CultureInfo.InvariantCulture,
            $"  {row.Method,-10} {row.Accuracy,7:P1} ({100 * (row.Accuracy - fp32.Accuracy):+0.0;-0.0;0.0} points, n = {row.Images})  {row.ImagesPerSecond,8:F1} img/s ({row.ImagesPerSecond / fp32.ImagesPerSecond:F2}× fp32)");
        return row.FeatureCosine is double cosine && row.Method != "fp32"
            ? line + string.Create(CultureInfo.InvariantCulture, $"  features' cosine to fp32 {cosine:F4}")
            : line;
    }
}

/// <summary>One backbone scored by <c>quantize</c>: its held-out accuracy with n, and ONNX Runtime's speed.</summary>
internal sealed record QuantizedRow(string Method, double Accuracy, int Images, double ImagesPerSecond, string? File)
{
    /// <summary>With <c>--from</c>: the mean cosine between this backbone's features and fp32's on the scored images.</summary>
    public double? FeatureCosine { get; init; }
}

/// <summary>What <c>quantize --json</c> prints.</summary>
internal sealed record QuantizeSummary(string Package, int CalibrationImages, int ScoredImages, QuantizedRow Fp32, IReadOnlyList<QuantizedRow> Int8);
