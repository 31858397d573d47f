using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Runtime.Features;

/// <summary>Outcome of running a model's golden inputs.</summary>
public sealed record GoldenResult(bool Passed, double MaxAbsDifference, double Tolerance, int Count);

/// <summary>
/// The health check after an install: run the package's golden inputs (already preprocessed)
/// through the backbone as it is served here and compare with the features recorded when
/// the package was built.
/// </summary>
public static class GoldenCheck
{
    /// <summary>Runs the check; a package without golden data fails it.</summary>
    /// <param name="model">The installed package.</param>
    /// <param name="backbone">The backbone session as it serves here.</param>
    /// <param name="quantized">Check the int8 backbone against its own golden features and tolerance (<see cref="ModelManifest.Quantized"/>).</param>
    public static GoldenResult Run(InstalledModel model, OnnxModel backbone, bool quantized = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(backbone);
        var golden = model.Manifest.Golden;
        if (quantized)
            golden = model.Manifest.Quantized is { } section && golden is not null ? golden with { Tolerance = section.GoldenTolerance } : null;
        string? inputsPath = model.PathOf(PackageFileRoles.GoldenInputs);
        string? outputsPath = model.PathOf(quantized ? PackageFileRoles.GoldenOutputsInt8 : PackageFileRoles.GoldenOutputs);
        if (golden is null || inputsPath is null || outputsPath is null)
            return new GoldenResult(false, double.PositiveInfinity, 0, 0);
        float[] expected = ReadFloats(outputsPath);
        float[] actual = Features(backbone, ReadFloats(inputsPath), golden.Count);
        double worst = actual.Length == expected.Length ? 0 : double.PositiveInfinity;
        for (int i = 0; i < Math.Min(actual.Length, expected.Length); i++)
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        // A GPU serving the fp16 variant rounds every activation to 11 bits.
        double scale = expected.Select(Math.Abs).DefaultIfEmpty(0).Max();
        double tolerance = backbone.Provider == ExecutionProvider.Cpu ? golden.Tolerance : Math.Max(golden.Tolerance, 1e-2 * Math.Max(1, scale));
        return new GoldenResult(worst <= tolerance, worst, tolerance, golden.Count);
    }

    /// <summary>
    /// The features <paramref name="backbone"/> gives the <paramref name="count"/> preprocessed NCHW inputs, square, in one batch,
    /// or one at a time for a graph with a fixed batch of 1.
    /// </summary>
    public static float[] Features(OnnxModel backbone, float[] inputs, int count)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        int perSample = inputs.Length / count;
        int channels = backbone.InputShape.Count == 4 && backbone.InputShape[1] > 0 ? backbone.InputShape[1] : 3;
        int side = (int)Math.Round(Math.Sqrt(perSample / channels));
        if (perSample * count != inputs.Length || channels * side * side != perSample)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidInputShape, $"{inputs.Length} golden values are not {count} square {channels}-channel images.");
        bool fixedBatch = backbone.InputShape.Count > 0 && backbone.InputShape[0] == 1;
        var features = new List<float>();
        for (int start = 0; start < count; start += fixedBatch ? 1 : count)
        {
            int n = fixedBatch ? 1 : count;
            features.AddRange(backbone.Run(inputs.AsMemory(start * perSample, n * perSample), [n, channels, side, side]).Values);
        }
        return [.. features];
    }

    /// <summary>Writes a golden file: float32, little-endian.</summary>
    public static void WriteFloats(string path, float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Reads a golden file: float32, little-endian.</summary>
    public static float[] ReadFloats(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, values.Length * 4);
        return values;
    }
}
