using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Interop.Onnx.Quantization;
using Google.Protobuf;
using static TorchSharp.torch;

namespace EdgeTL.Bench;

/// <summary>
/// Feature-extraction throughput of one frozen backbone three ways, interleaved so that drift
/// of the machine hits all three alike: ONNX Runtime on our exported file, TorchSharp eager, and
/// PyTorch eager in a child process. Same architecture, input size, batch and thread count.
/// </summary>
internal static class ExtractionBenchmark
{
    /// <summary>Multiply-accumulates per image at 224×224 (torchvision's published figures); FLOPs = 2 × MACs, scaled by area.</summary>
    private static readonly Dictionary<string, double> GigaMacsAt224 = new()
    {
        ["resnet18"] = 1.814, ["resnet34"] = 3.664, ["resnet50"] = 4.089,
        ["mobilenet_v2"] = 0.301, ["mobilenet_v3_small"] = 0.057, ["mobilenet_v3_large"] = 0.217,
    };

    /// <summary>FP32 peak of the reference CPU: 2 cores × 2.1 GHz × 2 AVX-512 FMA units × 16 lanes × 2 FLOPs.</summary>
    private const double PeakGflops = 2 * 2.1 * 2 * 16 * 2;

    public static int Run(string[] args)
    {
        var options = Parse(args);
        set_num_threads(options.Threads);
        Console.WriteLine($"feature extraction, batch {options.Batch}, {options.Threads} threads, {options.Rounds} interleaved rounds of ~{options.Seconds} s each; medians");
        Console.WriteLine($"{"model",-14} {"size",4}  {"ORT img/s",10} {"TorchSharp",10} {"PyTorch",10}  {"ORT/PyTorch",11} {"TS/PyTorch",10}  {"ORT % peak",10}");
        foreach (var arch in options.Archs)
        {
            foreach (int size in options.Sizes)
            {
                var (ort, torchSharp, pytorch) = Measure(arch, size, options);
                double gflop = 2 * GigaMacsAt224.GetValueOrDefault(arch) * (size * size) / (224.0 * 224.0);
                double peak = ort * gflop / PeakGflops;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{arch,-14} {size,4}  {ort,10:F1} {torchSharp,10:F1} {pytorch,10:F1}  {ort / pytorch,10:F2}× {torchSharp / pytorch,9:F2}×  {peak,9:P0}"));
            }
        }
        if (options.Int8)
            RunInt8(options);
        return 0;
    }

    /// <summary>
    /// Int8 rows: our calibrated QDQ graph (min/max) in ONNX Runtime against ONNX Runtime's fp32 on the same export, and against
    /// PyTorch's own int8 (FX graph mode, oneDNN), interleaved like the fp32 rows. Speed does not depend on the values, so both
    /// sides calibrate on the benchmark batch.
    /// </summary>
    private static void RunInt8(Options options)
    {
        Console.WriteLine();
        Console.WriteLine($"{"model",-14} {"size",4}  {"ORT fp32",10} {"ORT int8",10} {"PyTorch int8",12}  {"int8/fp32",9} {"ORT/PyTorch int8",16}");
        foreach (var arch in options.Archs)
        {
            foreach (int size in options.Sizes)
            {
                using var scope = NewDisposeScope();
                var backbone = BackboneZoo.Create(arch, seed: 0);
                backbone.eval();
                byte[] fp32 = OnnxExporter.Export(backbone).ToByteArray();
                float[] values = randn(options.Batch, 3, size, size).data<float>().ToArray();
                int[] shape = [options.Batch, 3, size, size];
                var sessionOptions = new OnnxModelOptions { IntraOpThreads = options.Threads };
                using var reference = OnnxModel.Load(fp32, sessionOptions);
                using var int8 = OnnxModel.Load(OnnxQuantizer.Quantize(fp32, [(values, shape)]).Model, sessionOptions);
                reference.Run(values, shape);
                int8.Run(values, shape);
                var fp32Runs = new List<double>();
                var int8Runs = new List<double>();
                var pytorchRuns = new List<double>();
                for (int round = 0; round < options.Rounds; round++)
                {
                    fp32Runs.Add(Throughput(options, () => reference.Run(values, shape)));
                    int8Runs.Add(Throughput(options, () => int8.Run(values, shape)));
                    pytorchRuns.Add(PyTorch(arch, size, options, "--int8"));
                }
                double f = Median(fp32Runs), q = Median(int8Runs), p = Median(pytorchRuns);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{arch,-14} {size,4}  {f,10:F1} {q,10:F1} {p,12:F1}  {q / f,8:F2}× {q / p,15:F2}×"));
            }
        }
    }

    private static (double Ort, double TorchSharp, double PyTorch) Measure(string arch, int size, Options options)
    {
        using var scope = NewDisposeScope();
        var backbone = BackboneZoo.Create(arch, seed: 0);
        backbone.eval();
        using var ort = OnnxModel.Load(OnnxExporter.Export(backbone).ToByteArray(), new OnnxModelOptions { IntraOpThreads = options.Threads });
        var input = randn(options.Batch, 3, size, size);
        float[] values = input.data<float>().ToArray();
        int[] shape = [options.Batch, 3, size, size];
        var ortRuns = new List<double>();
        var torchSharpRuns = new List<double>();
        var pytorchRuns = new List<double>();
        ort.Run(values, shape);
        using (no_grad())
            backbone.forward(input).Dispose();
        for (int round = 0; round < options.Rounds; round++)
        {
            ortRuns.Add(Throughput(options, () => ort.Run(values, shape)));
            torchSharpRuns.Add(Throughput(options, () =>
            {
                using var noGrad = no_grad();
                backbone.forward(input).Dispose();
            }));
            pytorchRuns.Add(PyTorch(arch, size, options));
        }
        return (Median(ortRuns), Median(torchSharpRuns), Median(pytorchRuns));
    }

    private static double Throughput(Options options, Action batch)
    {
        var clock = Stopwatch.StartNew();
        int images = 0;
        do
        {
            batch();
            images += options.Batch;
        }
        while (clock.Elapsed.TotalSeconds < options.Seconds || images < 2 * options.Batch);
        return images / clock.Elapsed.TotalSeconds;
    }

    private static double PyTorch(string arch, int size, Options options, params string[] extra)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Script(), "--arch", arch, "--size", $"{size}", "--batch", $"{options.Batch}", "--seconds", options.Seconds.ToString(CultureInfo.InvariantCulture), "--threads", $"{options.Threads}" }.Concat(extra))
            start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start /usr/bin/python3");
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"The PyTorch peer failed (is python3-torch installed?): {errors}");
        using var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        return json.RootElement.GetProperty("images_per_second").GetDouble();
    }

    private static string Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "bench", "peer", "extract_peer.py");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new InvalidOperationException("bench/peer/extract_peer.py not found above " + AppContext.BaseDirectory);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private sealed record Options(string[] Archs, int[] Sizes, int Rounds, double Seconds, int Batch, int Threads, bool Int8);

    private static Options Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        return new Options(
            Get("--archs", "resnet18,resnet50,mobilenet_v2").Split(','),
            [.. Get("--sizes", "64,224").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))],
            int.Parse(Get("--rounds", "3"), CultureInfo.InvariantCulture),
            double.Parse(Get("--seconds", "3"), CultureInfo.InvariantCulture),
            int.Parse(Get("--batch", "16"), CultureInfo.InvariantCulture),
            int.Parse(Get("--threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture),
            args.Contains("--int8"));
    }
}
