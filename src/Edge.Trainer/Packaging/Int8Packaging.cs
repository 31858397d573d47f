using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer.Interop.Onnx.Quantization;

namespace EdgeTL.Trainer.Packaging;

/// <summary>
/// An int8 backbone added to a package: the QDQ model (file role <c>backbone-int8</c>), the features it gives the package's
/// golden inputs (<c>golden-outputs-int8</c>) and the manifest's <see cref="ModelManifest.Quantized"/> section with the
/// golden tolerance. The cloud adds one to a package it builds (<c>package --int8</c>); a device adds one to a backbone it made.
/// </summary>
public static class Int8Packaging
{
    /// <summary>Package path of the int8 backbone.</summary>
    public const string BackbonePath = "backbone.int8.onnx";

    /// <summary>Package path of its golden features.</summary>
    public const string GoldenPath = "golden/features.int8.f32";

    /// <summary>
    /// The golden tolerance of an int8 backbone: 5 % of its largest golden feature (at least 1e-3). ONNX Runtime's integer kernels
    /// round and saturate a little differently between CPUs (VNNI or not); a different or damaged model misses by far more.
    /// </summary>
    public static double GoldenTolerance(float[] int8Features)
    {
        ArgumentNullException.ThrowIfNull(int8Features);
        double scale = int8Features.Select(Math.Abs).DefaultIfEmpty(0).Max();
        return Math.Max(1e-3, 0.05 * scale);
    }

    /// <summary>
    /// Writes the int8 backbone and its golden features for <paramref name="goldenInputs"/> (the package's, <paramref name="goldenCount"/>
    /// images) into <paramref name="folder"/>, and returns their paths with the section that describes them.
    /// </summary>
    public static (string Backbone, string Golden, Int8Backbone Section) Write(QuantizedModel quantized, CalibrationMethod method, string calibrationSource,
        float[] goldenInputs, int goldenCount, string folder, double accuracyBudgetPoints = 1.0)
    {
        ArgumentNullException.ThrowIfNull(quantized);
        ArgumentNullException.ThrowIfNull(goldenInputs);
        Directory.CreateDirectory(folder);
        string backbone = Path.Combine(folder, BackbonePath), golden = Path.Combine(folder, Path.GetFileName(GoldenPath));
        File.WriteAllBytes(backbone, quantized.Model);
        float[] features;
        using (var session = OnnxModel.Load(quantized.Model))
            features = GoldenCheck.Features(session, goldenInputs, goldenCount);
        GoldenCheck.WriteFloats(golden, features);
        var section = new Int8Backbone
        {
            Method = MethodName(method),
            CalibrationImages = quantized.CalibrationImages,
            CalibrationSource = calibrationSource,
            GoldenTolerance = GoldenTolerance(features),
            AccuracyBudgetPoints = accuracyBudgetPoints,
        };
        return (backbone, golden, section);
    }

    /// <summary>
    /// Rewrites the directory-form package at <paramref name="packageDirectory"/> (its <paramref name="manifest"/>) to
    /// <paramref name="output"/> with the int8 files and <paramref name="section"/> added, signed with <paramref name="key"/>.
    /// </summary>
    public static ModelManifest AddTo(string packageDirectory, ModelManifest manifest, string int8Backbone, string int8Golden, Int8Backbone section,
        SigningKey key, string output, bool asDirectory)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(section);
        var files = manifest.Files.Where(f => f.Role is not (PackageFileRoles.BackboneInt8 or PackageFileRoles.GoldenOutputsInt8))
            .Select(f => (f.Path, f.Role, Path.Combine(packageDirectory, f.Path))).ToList();
        files.Add((BackbonePath, PackageFileRoles.BackboneInt8, int8Backbone));
        files.Add((GoldenPath, PackageFileRoles.GoldenOutputsInt8, int8Golden));
        return ModelPackage.Write(output, manifest with { Files = [], Quantized = section }, files, key, asDirectory);
    }

    /// <summary>The manifest's name of a calibration method.</summary>
    public static string MethodName(CalibrationMethod method) => method.ToString().ToLowerInvariant();
}
