using System.Globalization;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer.Interop.Onnx.Quantization;
using EdgeTL.Trainer.Packaging;

namespace EdgeTL.Cloud;

/// <summary>What <c>package --int8</c> was asked for.</summary>
/// <param name="Method">Calibration method.</param>
/// <param name="Calibration">Folder of calibration images (never the scored ones).</param>
/// <param name="Data">Held-out labelled images (one folder per label, or a folder with val/).</param>
/// <param name="CalibrationImages">Most calibration images used.</param>
/// <param name="BudgetPoints">The most accuracy, in points, a device lets the int8 backbone lose (written to the manifest).</param>
internal sealed record Int8Request(CalibrationMethod Method, string Calibration, string Data, int CalibrationImages, double BudgetPoints);

/// <summary>What the int8 step measured: the held-out accuracy of both backbones through the package's head, with n.</summary>
internal sealed record Int8Result(string Method, int CalibrationImages, int Scored, double Fp32Accuracy, double Int8Accuracy, double BudgetPoints)
{
    /// <summary>Int8 minus fp32, in points.</summary>
    public double DropPoints => 100 * (Fp32Accuracy - Int8Accuracy);

    /// <summary>The result for people, with a warning when it is over budget.</summary>
    public IEnumerable<string> Lines()
    {
        var c = CultureInfo.InvariantCulture;
        yield return string.Create(c, $"int8 ({Method}, {CalibrationImages} calibration images): {Int8Accuracy:P1} against fp32 {Fp32Accuracy:P1} on n = {Scored} held-out images ({-DropPoints:+0.0;-0.0;0.0} points; device budget {BudgetPoints:0.##} points)");
        if (DropPoints > BudgetPoints)
            yield return string.Create(c, $"warning: int8 loses {DropPoints:0.0} points here, over the budget of {BudgetPoints:0.##}: a device will serve fp32 unless its own samples show the drop within budget");
    }
}

/// <summary>
/// <c>package --int8</c>: the packaged fp32 backbone quantized with calibrated ranges, scored against fp32 through the package's head
/// on held-out images, and added to the package (<see cref="Int8Packaging"/>) with those figures in its manifest.
/// </summary>
internal static class PackageInt8
{
    /// <summary>Adds the int8 backbone to the directory-form package at <paramref name="staged"/> and writes the signed result to <paramref name="output"/>.</summary>
    public static (ModelManifest Manifest, Int8Result Result) Add(string staged, ModelManifest manifest, Int8Request request, SigningKey key, string output, bool asDirectory,
        CancellationToken cancellationToken)
    {
        string FileOf(string role) => Path.Combine(staged, manifest.FileFor(role)?.Path
            ?? throw CloudCliException.InvalidArguments($"--int8: the package has no {role} file, and int8 is scored through the package's head."));
        var pipeline = manifest.Input.ToPipeline();
        string scoredRoot = EvaluateCommand.ScoredFolder(request.Data);
        var scored = EvaluateCommand.LabelledFiles(scoredRoot, manifest.Labels);
        var (batches, _) = QuantizeCommand.CalibrationBatches(request.Calibration, pipeline, request.CalibrationImages,
            scored.Select(f => Path.GetFullPath(f.File)).ToHashSet(StringComparer.Ordinal));
        byte[] fp32 = File.ReadAllBytes(FileOf(PackageFileRoles.Backbone));
        var quantized = OnnxQuantizer.Quantize(fp32, batches, new QuantizationOptions { Method = request.Method });

        using var head = OnnxModel.Load(FileOf(PackageFileRoles.Head));
        (double Accuracy, int Scored) AccuracyOf(byte[] backbone)
        {
            using var model = OnnxModel.Load(backbone);
            return QuantizeCommand.Accuracy(new Predictor(new FeatureExtractor(model, pipeline), head, manifest.Labels), scoredRoot, scored, cancellationToken);
        }
        var (fp32Accuracy, count) = AccuracyOf(fp32);
        double int8Accuracy = AccuracyOf(quantized.Model).Accuracy;

        string work = Directory.CreateTempSubdirectory("edgetl-int8-").FullName;
        try
        {
            var golden = manifest.Golden ?? throw CloudCliException.InvalidArguments("--int8: the package has no golden set.");
            var (backbone, goldenFeatures, section) = Int8Packaging.Write(quantized, request.Method, $"{quantized.CalibrationImages} images from {Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(request.Calibration)))}",
                GoldenCheck.ReadFloats(FileOf(PackageFileRoles.GoldenInputs)), golden.Count, work, request.BudgetPoints);
            section = section with { ScoredImages = count, Fp32Accuracy = fp32Accuracy, Int8Accuracy = int8Accuracy };
            var written = Int8Packaging.AddTo(staged, manifest, backbone, goldenFeatures, section, key, output, asDirectory);
            return (written, new Int8Result(section.Method, quantized.CalibrationImages, count, fp32Accuracy, int8Accuracy, request.BudgetPoints));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
