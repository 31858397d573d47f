using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using EdgeTL.Trainer.Training.Precision;
using static TorchSharp.torch;
using static EdgeTL.Bench.BenchStatistics;

namespace EdgeTL.Bench;

/// <summary>
/// Fine-tuning speed and memory: a full fine-tune step (EdgeTL's training loop in fp32 and bf16
/// against PyTorch eager fp32 in its default layout and in channels_last, interleaved), one
/// head-only epoch on cached features against one full fine-tune epoch, and training memory of
/// head-only, progressive and full fine-tuning, each measured in a fresh child process.
/// </summary>
internal static class TrainingBenchmark
{
    public static int Run(string[] args)
    {
        var o = Options.Parse(args);
        set_num_threads(o.Threads);
        if (o.Sections.Contains("steps"))
            Steps(o);
        if (o.Sections.Contains("modes"))
            BackboneModes(o);
        if (o.Sections.Contains("cache"))
        {
            PrefixCacheBenchmark.Run(o.Sizes, o.Rounds, progressiveEpochs: 15);
            MasterWeightKernelBenchmark.Run(o.Rounds);
        }
        if (o.Sections.Contains("epochs"))
            HeadVersusFull(o);
        if (o.Sections.Contains("memory"))
            Memory(o);
        return 0;
    }

    /// <summary>A full fine-tune step: EdgeTL fp32, bf16 and auto against PyTorch in both layouts.</summary>
    private static void Steps(Options o)
    {
        Console.WriteLine($"full fine-tune step (forward, loss, backward, AdamW), batch {o.Batch}, {o.Threads} threads, {o.Rounds} interleaved rounds of ~{o.Seconds} s; medians");
        Console.WriteLine($"EdgeTL: TrainingLoop.Fit with memory format {o.Format}; PyTorch: eager, default layout, and with channels_last (PyTorch CL)");
        Console.WriteLine("TS auto: PrecisionMode.Auto, which measures fp32 against bf16 on the first batch and keeps the faster (bf16 only when ≥ 10 % faster)");
        Console.WriteLine($"{"model",-14} {"size",4}  {"TS fp32",9} {"TS bf16",9} {"TS auto",9} {"PyTorch",9} {"PyTorch CL",10}  {"fp32/PyTorch",12} {"fp32/PT CL",10} {"bf16/PyTorch",12} {"bf16/fp32",9} {"auto/fp32",9}");
        foreach (var arch in o.Archs)
        {
            foreach (int size in o.Sizes)
            {
                var fp32 = new List<double>();
                var bf16 = new List<double>();
                var auto = new List<double>();
                var peer = new List<double>();
                var peerLast = new List<double>();
                using var m32 = new StepRunner(arch, size, o.Batch, PrecisionMode.Fp32, o.Format);
                using var m16 = new StepRunner(arch, size, o.Batch, PrecisionMode.Bf16, o.Format);
                using var mAuto = new StepRunner(arch, size, o.Batch, PrecisionMode.Auto, o.Format);
                for (int r = 0; r < o.Rounds; r++)
                {
                    fp32.Add(m32.Throughput(o.Seconds));
                    bf16.Add(m16.Throughput(o.Seconds));
                    auto.Add(mAuto.Throughput(o.Seconds));
                    peer.Add(PyTorch(arch, size, o, channelsLast: false));
                    peerLast.Add(PyTorch(arch, size, o, channelsLast: true));
                }
                double a = Median(fp32), b = Median(bf16), c = Median(auto), p = Median(peer), q = Median(peerLast);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{arch,-14} {size,4}  {a,9:F1} {b,9:F1} {c,9:F1} {p,9:F1} {q,10:F1}  {a / p,11:F2}× {a / q,9:F2}× {b / p,11:F2}× {b / a,8:F2}× {c / a,8:F2}×"));
            }
        }
    }

    /// <summary>
    /// The device's backbone fine-tunes (issue 17): a step of <c>progressive</c> (head, stage4, stage3)
    /// and <c>surgical</c> (head, stem, stage1) in their final phase, the other groups frozen and every
    /// BatchNorm's statistics frozen, as the agent trains them; PyTorch with the same groups trainable.
    /// </summary>
    private static void BackboneModes(Options o)
    {
        if (o.Modes.Length == 0)
            return;
        Console.WriteLine();
        Console.WriteLine($"backbone modes, resnet18, fp32 (the agent's groups, BatchNorm statistics frozen), batch {o.Batch}; medians of {o.Rounds} rounds");
        Console.WriteLine($"{"mode",-12} {"size",4}  {"TS fp32",9} {"PyTorch",9} {"PyTorch CL",10}  {"TS/PyTorch",10} {"TS/PT CL",9}");
        foreach (string mode in o.Modes)
        {
            var trained = Trainer.Training.BackboneModes.TrainedGroups(mode);
            foreach (int size in o.Sizes)
            {
                var ours = new List<double>();
                var peer = new List<double>();
                var peerLast = new List<double>();
                using var runner = new StepRunner("resnet18", size, o.Batch, PrecisionMode.Fp32, o.Format, trained);
                for (int r = 0; r < o.Rounds; r++)
                {
                    ours.Add(runner.Throughput(o.Seconds));
                    peer.Add(PyTorch("resnet18", size, o, channelsLast: false, trained));
                    peerLast.Add(PyTorch("resnet18", size, o, channelsLast: true, trained));
                }
                double a = Median(ours), p = Median(peer), q = Median(peerLast);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{mode,-12} {size,4}  {a,9:F1} {p,9:F1} {q,10:F1}  {a / p,9:F2}× {a / q,8:F2}×"));
            }
        }
    }

    /// <summary>One head-only epoch on cached features against one full fine-tune epoch, same images, both through <see cref="TrainingLoop.Fit"/>.</summary>
    private static void HeadVersusFull(Options o)
    {
        const int images = 1000;
        using var scope = NewDisposeScope();
        using var model = TransferModel.Create("resnet18", 10, seed: 0);
        var full = new TrainingLoop(new TrainerOptions { Epochs = 1, RestoreBest = false, MemoryFormat = o.Format, BoundNativeMemory = false });
        var batches = new ArrayBatches(randn(o.Batch, 3, 64, 64), randint(0, 10, [o.Batch])) { Steps = 2 };
        full.Fit(model, batches);
        batches.Steps = images / o.Batch;
        double fullSeconds = Timed(() => full.Fit(model, batches));
        var features = new FeatureSet(randn(images, 512), randint(0, 10, [images]), 10);
        using var head = HeadModel.Create(512, 10);
        var loop = new TrainingLoop(new TrainerOptions { Epochs = 1, RestoreBest = false, BoundNativeMemory = false });
        loop.Fit(head, features.Batches(32, shuffle: true, seed: 0));
        double headSeconds = Timed(() => loop.Fit(head, features.Batches(32, shuffle: true, seed: 1)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"one epoch of {batches.SampleCount} images (resnet18, 64×64): full fine-tune {fullSeconds:F2} s, head-only on cached features {headSeconds * 1000:F1} ms → {fullSeconds / headSeconds:F0}× faster"));
    }

    /// <summary>Peak resident memory of each mode, in a fresh process each, above the process's state after loading the model.</summary>
    private static void Memory(Options o)
    {
        Console.WriteLine($"training memory at batch {o.Batch}, fresh process each, bytes in use by the allocator (MB): head-only = its whole peak training the head on cached features; progressive/full = resnet18 224×224 activations held after the forward pass");
        var results = new Dictionary<string, double>();
        foreach (var mode in new[] { "head", "progressive", "full" })
        {
            // The same program again: under `dotnet Edge.Bench.dll` the host needs the dll first; the
            // apphost that `dotnet run` starts must not get it (it would read the path as the verb).
            var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
                start.ArgumentList.Add(typeof(TrainingBenchmark).Assembly.Location);
            foreach (var a in new[] { "memory-child", mode, $"{o.Batch}", $"{o.Threads}" })
                start.ArgumentList.Add(a);
            using var child = Process.Start(start)!;
            var errors = child.StandardError.ReadToEndAsync();
            string output = child.StandardOutput.ReadToEnd().Trim();
            child.WaitForExit();
            string line = output.Split('\n')[^1];
            if (child.ExitCode != 0 || !double.TryParse(line, NumberStyles.Float, CultureInfo.InvariantCulture, out double megabytes))
                throw new InvalidOperationException($"The memory child for '{mode}' exited {child.ExitCode} without a figure:\n{output}\n{errors.Result}");
            results[mode] = megabytes;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {mode,-12} {results[mode],8:F1} MB"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  full activations / head-only training = {results["full"] / Math.Max(results["head"], 0.1):F1}× (target ≥ 6.5×); full / progressive activations = {results["full"] / Math.Max(results["progressive"], 0.1):F1}×"));
    }

    /// <summary>
    /// Child process; prints MB counted by the allocator (glibc <c>mallinfo2</c>: bytes in use,
    /// heap plus mmapped), which, unlike resident memory, does not include freed buffers the
    /// allocator keeps. <c>head</c>: everything training the seed head on cached 512-d features
    /// holds at its peak (parameters, gradients, AdamW state, activations). <c>progressive</c>
    /// (stage4 + head) and <c>full</c>: resnet18 at 224×224, the activations autograd holds at
    /// the end of the forward pass (after a warm-up step, so gradients and optimizer state
    /// already exist and are not counted).
    /// </summary>
    public static int MemoryChild(string[] args)
    {
        string mode = args[0];
        int batch = int.Parse(args[1], CultureInfo.InvariantCulture);
        set_num_threads(int.Parse(args[2], CultureInfo.InvariantCulture));
        var y = randint(0, 10, [batch]);
        long before = InUse();
        nn.Module<Tensor, Tensor> network;
        Tensor x;
        if (mode == "head")
        {
            network = HeadModel.Create(512, 10);
            x = randn(batch, 512);
        }
        else
        {
            var model = TransferModel.Create("resnet18", 10, seed: 0);
            if (mode == "progressive")
                model.Freeze("stem", "stage1", "stage2", "stage3");
            network = model;
            x = randn(batch, 3, 224, 224);
        }
        var optimizer = optim.AdamW(network.parameters().Where(p => p.requires_grad), 1e-4);
        network.train();
        long peak = 0, activations = 0;
        for (int i = 0; i < 3; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            long start = InUse();
            var loss = nn.functional.cross_entropy(network.forward(x), y);
            long afterForward = InUse();
            loss.backward();
            optimizer.step();
            peak = Math.Max(peak, Math.Max(afterForward, InUse()) - before);
            activations = afterForward - start;
        }
        double mb = (mode == "head" ? peak : activations) / 1048576.0;
        Console.WriteLine(mb.ToString("F1", CultureInfo.InvariantCulture));
        return 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 MallInfo();

    /// <summary>Bytes the C allocator has handed out and not taken back: heap in use plus mmapped blocks.</summary>
    private static long InUse()
    {
        var info = MallInfo();
        return (long)(info.Uordblks + info.Hblkhd);
    }

    private static long Status(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        return 0;
    }

    /// <summary>
    /// A training run through <see cref="TrainingLoop.Fit"/> as the product runs it: one epoch
    /// of a fixed batch repeated. The step count is sized from a short warm-up run so that the
    /// timed run lasts about <c>seconds</c>, and setup (optimizer state, master weights, layout)
    /// is amortized as in a real epoch.
    /// </summary>
    private sealed class StepRunner : IDisposable
    {
        private readonly TransferModel _model;
        private readonly ArrayBatches _data;
        private readonly TrainingLoop _loop;

        public StepRunner(string arch, int size, int batch, PrecisionMode precision, MemoryFormat format, IReadOnlyList<string>? trained = null)
        {
            _model = TransferModel.Create(arch, 10, seed: 0);
            _data = new ArrayBatches(randn(batch, 3, size, size), randint(0, 10, [batch])) { Steps = 3 };
            if (trained is not null)
                _model.Freeze([.. ZooBackbone.GroupNames.Except(trained)]);
            _loop = new TrainingLoop(new TrainerOptions
            {
                Epochs = 1, Precision = precision, MemoryFormat = format, RestoreBest = false, Schedule = LrScheduleKind.Constant, BoundNativeMemory = false,
                FreezeBatchNormStatistics = trained is not null,
            });
            _loop.Fit(_model, _data);
        }

        /// <summary>Images per second of one run of about <paramref name="seconds"/>.</summary>
        public double Throughput(double seconds)
        {
            _data.Steps = 3;
            double perStep = Timed(() => _loop.Fit(_model, _data)) / 3;
            _data.Steps = Math.Max(3, (int)Math.Round(seconds / perStep));
            double elapsed = Timed(() => _loop.Fit(_model, _data));
            return _data.SampleCount / elapsed;
        }

        public void Dispose() => _model.Dispose();
    }

    private static double Timed(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    private static double PyTorch(string arch, int size, Options o, bool channelsLast, IReadOnlyList<string>? trained = null)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Peer(), "--arch", arch, "--size", $"{size}", "--batch", $"{o.Batch}", "--seconds", o.Seconds.ToString(CultureInfo.InvariantCulture), "--threads", $"{o.Threads}" })
            start.ArgumentList.Add(a);
        if (channelsLast)
            start.ArgumentList.Add("--channels-last");
        if (trained is not null)
        {
            start.ArgumentList.Add("--train");
            start.ArgumentList.Add(string.Join(',', trained));
        }
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException("The PyTorch peer failed: " + errors);
        using var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        return json.RootElement.GetProperty("images_per_second").GetDouble();
    }

    private static string Peer()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "bench", "peer", "train_peer.py");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new InvalidOperationException("bench/peer/train_peer.py not found");
    }


    /// <summary>One fixed batch, repeated <see cref="Steps"/> times per epoch (speed does not depend on pixel values).</summary>
    private sealed class ArrayBatches(Tensor images, Tensor labels) : ITensorBatches
    {
        public int Steps { get; set; } = 1;

        public int SampleCount => Steps * (int)images.shape[0];

        public IEnumerable<(Tensor Inputs, Tensor Labels)> Epoch(int epoch)
        {
            for (int i = 0; i < Steps; i++)
                yield return (images.alias(), labels.alias());
        }
    }

    private sealed record Options(string[] Archs, int[] Sizes, int Rounds, double Seconds, int Batch, int Threads, MemoryFormat Format, string[] Modes, string[] Sections)
    {
        public static Options Parse(string[] args)
        {
            string Get(string name, string fallback)
            {
                int i = Array.IndexOf(args, name);
                return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
            }
            return new Options(
                Get("--archs", "resnet18,mobilenet_v2").Split(','),
                [.. Get("--sizes", "64,224").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))],
                int.Parse(Get("--rounds", "3"), CultureInfo.InvariantCulture),
                double.Parse(Get("--seconds", "3"), CultureInfo.InvariantCulture),
                int.Parse(Get("--batch", "16"), CultureInfo.InvariantCulture),
                int.Parse(Get("--threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture),
                Get("--format", "auto") switch
                {
                    "first" => MemoryFormat.ChannelsFirst,
                    "last" => MemoryFormat.ChannelsLast,
                    _ => MemoryFormat.Auto,
                },
                Get("--modes", "progressive,surgical").Split(',', StringSplitOptions.RemoveEmptyEntries),
                Get("--sections", "steps,modes,cache,epochs,memory").Split(',', StringSplitOptions.RemoveEmptyEntries));
        }
    }
}
