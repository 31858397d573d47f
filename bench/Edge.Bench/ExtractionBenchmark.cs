using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Interop.Onnx.Quantization;
using Google.Protobuf;
using static TorchSharp.torch;
using static EdgeTL.Bench.BenchStatistics;

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


    public static int Run(string[] args)
    {
        var options = Parse(args);
        set_num_threads(options.Threads);
        Console.WriteLine($"feature extraction, batch {options.Batch}, {options.Threads} threads, {options.Rounds} interleaved rounds of ~{options.Seconds} s each; medians");
        double sgemm = SgemmGflops();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"this machine's FP32 SGEMM (2048², libtorch, {options.Threads} threads): {sgemm:F0} GFLOP/s, the reference for '% SGEMM'"));
        Console.WriteLine($"{"model",-14} {"size",4}  {"ORT img/s",10} {"TorchSharp",10} {"PyTorch",10}  {"ORT/PyTorch",11} {"TS/PyTorch",10}  {"ORT % SGEMM",11}");
        foreach (var arch in options.Archs)
        {
            foreach (int size in options.Sizes)
            {
                var (ort, torchSharp, pytorch) = Measure(arch, size, options);
                double gflop = 2 * GigaMacsAt224.GetValueOrDefault(arch) * (size * size) / (224.0 * 224.0);
                double peak = ort * gflop / sgemm;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{arch,-14} {size,4}  {ort,10:F1} {torchSharp,10:F1} {pytorch,10:F1}  {ort / pytorch,10:F2}× {torchSharp / pytorch,9:F2}×  {peak,10:P0}"));
            }
        }
        if (options.Int8)
            RunInt8(options);
        return 0;
    }

    /// <summary>
    /// Int8 rows: our calibrated QDQ graph (min/max) in ONNX Runtime against ONNX Runtime's fp32 on the same export, and against
    /// PyTorch's own int8 (FX graph mode, oneDNN), interleaved like the fp32 rows. Speed does not depend on the values, so both
    /// sides calibrate on the benchmark batch. With <c>--mlnet</c>, ML.NET's ImageNet ResNet-18 (its preprocessing chained in front,
    /// as <c>import</c> ships it; fixed batch 1) gets a row too, against PyTorch's int8 of the same architecture.
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
                Int8Row(arch, size, OnnxExporter.Export(backbone).ToByteArray(), arch, randn(options.Batch, 3, size, size).data<float>().ToArray(), options);
            }
        }
        if (options.MlNet)
        {
            var pixels = new float[options.Batch * 3 * MlNetResNet18.InputSize * MlNetResNet18.InputSize];
            var random = new Random(0);
            for (int i = 0; i < pixels.Length; i++)
                pixels[i] = random.Next(256);
            // As `import` ships it (any batch); ML.NET's own files fix the batch at 1, which runs the batch image by image.
            Int8Row("mlnet-resnet18", MlNetResNet18.InputSize, MlNetResNet18.ShippedOnnx(), "resnet18", pixels, options);
            if (options.FixedBatch)
                Int8Row("mlnet-fixed1", MlNetResNet18.InputSize, MlNetResNet18.ChainedOnnx(), "resnet18", pixels, options);
        }
    }

    private static void Int8Row(string name, int size, byte[] fp32, string peerArch, float[] values, Options options)
    {
        var sessionOptions = new OnnxModelOptions { IntraOpThreads = options.Threads };
        using var reference = OnnxModel.Load(fp32, sessionOptions);
        // A graph with a fixed batch of 1 (ML.NET's) runs the benchmark batch one image at a time.
        int batch = reference.InputShape.Count > 0 && reference.InputShape[0] == 1 ? 1 : options.Batch;
        int per = 3 * size * size;
        var calibration = Enumerable.Range(0, options.Batch / batch).Select(b => (values[(b * batch * per)..((b + 1) * batch * per)], new[] { batch, 3, size, size })).ToList();
        using var int8 = OnnxModel.Load(OnnxQuantizer.Quantize(fp32, calibration).Model, sessionOptions);
        void RunAll(OnnxModel model)
        {
            foreach (var (chunk, shape) in calibration)
                model.Run(chunk, shape);
        }
        RunAll(reference);
        RunAll(int8);
        var fp32Runs = new List<double>();
        var int8Runs = new List<double>();
        var pytorchRuns = new List<double>();
        for (int round = 0; round < options.Rounds; round++)
        {
            fp32Runs.Add(Throughput(options, () => RunAll(reference)));
            int8Runs.Add(Throughput(options, () => RunAll(int8)));
            pytorchRuns.Add(PyTorch(peerArch, size, options, "--int8"));
        }
        double f = Median(fp32Runs), q = Median(int8Runs), p = Median(pytorchRuns);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-14} {size,4}  {f,10:F1} {q,10:F1} {p,12:F1}  {q / f,8:F2}× {q / p,15:F2}×"));
        if (options.Profile)
            Profile(name, OnnxQuantizer.Quantize(fp32, calibration).Model, calibration, options);
    }

    /// <summary>
    /// <c>--profile</c>: ONNX Runtime's own profile of the int8 session over five passes of the benchmark batch, summed per kernel
    /// (op type as it ran after fusion, and its provider): which integer kernels ran, and what stayed in float.
    /// </summary>
    private static void Profile(string name, byte[] model, List<(float[] Values, int[] Shape)> batches, Options options)
    {
        using var sessionOptions = new Microsoft.ML.OnnxRuntime.SessionOptions { EnableProfiling = true, IntraOpNumThreads = options.Threads };
        sessionOptions.ProfileOutputPathPrefix = Path.Combine(Path.GetTempPath(), $"edgetl-ort-profile-{name}");
        string file;
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(model, sessionOptions))
        {
            string input = session.InputMetadata.Keys.First();
            for (int pass = 0; pass < 5; pass++)
            {
                foreach (var (values, shape) in batches)
                {
                    using var tensor = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(values, [.. shape.Select(d => (long)d)]);
                    using var outputs = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), [input], [tensor], session.OutputNames);
                }
            }
            file = session.EndProfiling();
        }
        using var json = JsonDocument.Parse(File.ReadAllText(file));
        File.Delete(file);
        var kernels = json.RootElement.EnumerateArray()
            .Where(e => e.GetProperty("cat").GetString() == "Node" && e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal))
            .Select(e => (Op: e.GetProperty("args").GetProperty("op_name").GetString()!, Provider: e.GetProperty("args").TryGetProperty("provider", out var pr) ? pr.GetString()! : "?",
                Micros: e.GetProperty("dur").GetDouble()))
            .GroupBy(k => (k.Op, k.Provider)).Select(g => (g.Key.Op, g.Key.Provider, Micros: g.Sum(k => k.Micros), Count: g.Count())).OrderByDescending(k => k.Micros).ToList();
        double total = kernels.Sum(k => k.Micros);
        Console.WriteLine($"  ONNX Runtime profile of {name} int8 (5 passes): kernel, share of kernel time, calls");
        foreach (var k in kernels.Take(8))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {k.Op,-22} {k.Micros / total,6:P1}  {k.Count,6}  {k.Provider}"));
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

    /// <summary>What a large dense fp32 matrix product reaches here (best of five): the practical peak that convolutions are measured against.</summary>
    private static double SgemmGflops()
    {
        using var scope = NewDisposeScope();
        const int n = 2048;
        var a = randn(n, n);
        var b = randn(n, n);
        mm(a, b).Dispose();
        double best = 0;
        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            mm(a, b).Dispose();
            best = Math.Max(best, 2.0 * n * n * n / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
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


    private sealed record Options(string[] Archs, int[] Sizes, int Rounds, double Seconds, int Batch, int Threads, bool Int8, bool MlNet, bool Profile, bool FixedBatch);

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
            args.Contains("--int8") || args.Contains("--mlnet") || args.Contains("--profile"),
            args.Contains("--mlnet") || args.Contains("--mlnet-fixed"),
            args.Contains("--profile"),
            args.Contains("--mlnet-fixed"));
    }
}
