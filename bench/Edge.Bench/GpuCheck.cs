using System.Diagnostics;
using System.Globalization;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Trainer.Interop.Onnx;
using Google.Protobuf;

namespace EdgeTL.Bench;

/// <summary>
/// The GPU execution providers against the CPU on a packaged backbone: the fp32 backbone and its fp16
/// form, each on CUDA and on TensorRT, compared with ONNX Runtime's CPU fp32 output on the same inputs
/// (largest |Δ| relative to the output's scale) and timed (img/s). A provider that does not load here
/// is reported as such; the run fails only when a provider that ran disagrees with the CPU.
/// </summary>
internal static class GpuCheck
{
    /// <summary>Largest accepted |Δ| relative to the CPU output's largest |value|: fp32, and fp16.</summary>
    private const double Fp32Tolerance = 1e-3, Fp16Tolerance = 2e-2;

    public static int Run(string[] args)
    {
        string? folder = Option(args, "--model") ?? NewestDemoModel();
        if (folder is null || !File.Exists(Path.Combine(folder, "backbone.onnx")))
        {
            Console.Error.WriteLine("gpu-check: no model folder with backbone.onnx. Pass --model DIR (an installed version or an unpacked package), or run the demo first (its model lands in out/demo-agent/data/models/versions).");
            return 2;
        }
        int batch = int.Parse(Option(args, "--batch") ?? "16", CultureInfo.InvariantCulture);
        double seconds = double.Parse(Option(args, "--seconds") ?? "3", CultureInfo.InvariantCulture);
        string fp32 = Path.Combine(folder, "backbone.onnx");
        string fp16 = Path.Combine(folder, "backbone.fp16.onnx");
        string? converted = null;
        if (!File.Exists(fp16))
        {
            converted = Path.Combine(Path.GetTempPath(), $"edgetl-gpu-check-{Guid.NewGuid():N}.fp16.onnx");
            using var graph = OnnxImporter.Import(fp32);
            File.WriteAllBytes(converted, OnnxExporter.Export(graph, new OnnxExportOptions { Float16 = true }).ToByteArray());
            fp16 = converted;
        }
        try
        {
            using var reference = OnnxSessionFactory.Open(fp32, null, new SessionOptionsSpec { Providers = [ExecutionProvider.Cpu] });
            int side = Option(args, "--size") is { } size ? int.Parse(size, CultureInfo.InvariantCulture)
                : reference.InputShape.Count == 4 && reference.InputShape[2] > 0 ? reference.InputShape[2]
                : ManifestInputSize(folder) ?? 224;
            int[] shape = [batch, 3, side, side];
            var random = new Random(0);
            var input = new float[batch * 3 * side * side];
            for (int i = 0; i < input.Length; i++)
                input[i] = (float)(random.NextDouble() * 4 - 2);   // the range normalized images cover
            var expected = reference.Run(input, shape).Values;
            double scale = expected.Max(MathF.Abs);
            Console.WriteLine($"model {folder}, input [{string.Join(", ", shape)}]; reference: ONNX Runtime CPU fp32, {Throughput(reference, input, shape, seconds):F1} img/s");
            Console.WriteLine($"{"provider",-9} {"weights",-7} {"ran on",-9} {"max |Δ| / scale",15} {"img/s",9}  verdict");
            int failures = 0, ran = 0;
            foreach (var provider in new[] { ExecutionProvider.Cuda, ExecutionProvider.TensorRt })
            {
                foreach (var (precision, path, tolerance) in new[] { ("fp32", fp32, Fp32Tolerance), ("fp16", fp16, Fp16Tolerance) })
                {
                    using var model = OnnxSessionFactory.Open(path, null, new SessionOptionsSpec { Providers = [provider] });
                    if (model.Provider != provider)
                    {
                        Console.WriteLine($"{provider,-9} {precision,-7} {model.Provider,-9} {"-",15} {"-",9}  not available here (no NVIDIA driver or provider library): skipped");
                        continue;
                    }
                    ran++;
                    var actual = model.Run(input, shape).Values;
                    double delta = expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)) / scale;
                    bool ok = delta <= tolerance;
                    failures += ok ? 0 : 1;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{provider,-9} {precision,-7} {model.Provider,-9} {delta,15:E2} {Throughput(model, input, shape, seconds),9:F1}  {(ok ? "ok" : $"DIFFERS (allowed {tolerance:E0})")}"));
                }
            }
            Console.WriteLine(ran == 0
                ? "gpu-check: no GPU execution provider loads on this machine; nothing to compare (not a failure)."
                : $"gpu-check: {ran} GPU run(s), {failures} outside tolerance.");
            return failures == 0 ? 0 : 1;
        }
        finally
        {
            if (converted is not null)
                File.Delete(converted);
        }
    }

    private static double Throughput(OnnxModel model, float[] input, int[] shape, double seconds)
    {
        model.Run(input, shape);
        int images = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            model.Run(input, shape);
            images += shape[0];
        }
        return images / clock.Elapsed.TotalSeconds;
    }

    /// <summary>The package's input size from its <c>manifest.json</c> (<c>input.size</c>), when there is one.</summary>
    private static int? ManifestInputSize(string folder)
    {
        string manifest = Path.Combine(folder, "manifest.json");
        return File.Exists(manifest) ? System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))?["input"]?["size"]?.GetValue<int>() : null;
    }

    private static string? NewestDemoModel()
    {
        string versions = Path.Combine("out", "demo-agent", "data", "models", "versions");
        return Directory.Exists(versions)
            ? Directory.GetDirectories(versions).Where(d => File.Exists(Path.Combine(d, "backbone.onnx"))).OrderBy(Directory.GetLastWriteTimeUtc).LastOrDefault()
            : null;
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
