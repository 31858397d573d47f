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
    public static GoldenResult Run(InstalledModel model, OnnxModel backbone)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(backbone);
        var golden = model.Manifest.Golden;
        string? inputsPath = model.PathOf(PackageFileRoles.GoldenInputs), outputsPath = model.PathOf(PackageFileRoles.GoldenOutputs);
        if (golden is null || inputsPath is null || outputsPath is null)
            return new GoldenResult(false, double.PositiveInfinity, 0, 0);
        float[] inputs = ReadFloats(inputsPath), expected = ReadFloats(outputsPath);
        var spec = model.Manifest.Input;
        int[] shape = [golden.Count, spec.Channels, spec.Size, spec.Size];
        double worst = 0;
        int perSample = inputs.Length / golden.Count;
        int featuresPer = expected.Length / golden.Count;
        bool fixedBatch = backbone.InputShape.Count > 0 && backbone.InputShape[0] == 1;
        for (int start = 0; start < golden.Count; start += fixedBatch ? 1 : golden.Count)
        {
            int n = fixedBatch ? 1 : golden.Count;
            var (actual, _) = backbone.Run(inputs.AsMemory(start * perSample, n * perSample), [n, .. shape.Skip(1)]);
            for (int i = 0; i < actual.Length; i++)
                worst = Math.Max(worst, Math.Abs(actual[i] - expected[(start * featuresPer) + i]));
        }
        // A GPU serving the fp16 variant rounds every activation to 11 bits.
        double scale = expected.Select(Math.Abs).DefaultIfEmpty(0).Max();
        double tolerance = backbone.Provider == ExecutionProvider.Cpu ? golden.Tolerance : Math.Max(golden.Tolerance, 1e-2 * Math.Max(1, scale));
        return new GoldenResult(worst <= tolerance, worst, tolerance, golden.Count);
    }

    private static float[] ReadFloats(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, values.Length * 4);
        return values;
    }
}
