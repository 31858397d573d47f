using System.Globalization;
using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using EdgeTL.Trainer.Training.Precision;
using Google.Protobuf;
using static TorchSharp.torch;
using static EdgeTL.Bench.BenchStatistics;

namespace EdgeTL.Bench;

/// <summary>
/// The frozen-prefix cache on the device's trainable module (resnet18 exported to ONNX and imported
/// back, as the agent imports what it serves): epochs of each progressive phase with the prefix
/// cached against recomputed, and a whole progressive fine-tune both ways. Same images, same
/// trainer; the ratio is the figure (PyTorch has no such cache to compare with).
/// </summary>
internal static class PrefixCacheBenchmark
{
    private const int Images = 64, Batch = 16, Classes = 10;

    private static readonly (string Name, string[] Groups)[] Phases =
    [
        ("head only", []),
        ("stage4", ["stage4"]),
        ("stage3+stage4", ["stage3", "stage4"]),
    ];

    public static void Run(int[] sizes, int rounds, int progressiveEpochs)
    {
        Console.WriteLine();
        Console.WriteLine($"frozen-prefix cache: the device's module (resnet18 imported from its ONNX export), {Images} real Fashion-MNIST images, batch {Batch}, in fp32 and in the device's precision policy (auto: bf16 where measurably faster);");
        Console.WriteLine($"steady epochs (epoch 0 fills the cache) in img/s, medians of {rounds} interleaved rounds; then a whole progressive fine-tune ({progressiveEpochs} epochs) both ways");
        Console.WriteLine($"{"phase",-22} {"size",4} {"precision",9}  {"recomputed",10} {"cached",10}  {"cached/recomputed",17}  compute");
        foreach (int size in sizes)
        {
            using var rows = ImageRows(size);
            byte[] onnx = Exported(size);
            foreach (var precision in (PrecisionMode[])[PrecisionMode.Fp32, PrecisionMode.Auto])
            {
                string mode = precision.ToString().ToLowerInvariant();
                foreach (var (name, groups) in Phases)
                {
                    var recomputed = new List<double>();
                    var cached = new List<double>();
                    string compute = "";
                    for (int r = 0; r < rounds; r++)
                    {
                        (double plainRate, string plainType) = SteadyThroughput(onnx, rows, size, groups, precision, cache: false);
                        (double cachedRate, string cachedType) = SteadyThroughput(onnx, rows, size, groups, precision, cache: true);
                        recomputed.Add(plainRate);
                        cached.Add(cachedRate);
                        compute = $"{plainType}/{cachedType}";
                    }
                    double a = Median(recomputed), b = Median(cached);
                    var paired = recomputed.Zip(cached, (plain, fast) => fast / plain).Order().ToList();
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{name,-22} {size,4} {mode,9}  {a,10:F1} {b,10:F1}  {b / a,16:F2}×  {compute}  (rounds {paired[0]:F2}–{paired[^1]:F2}×)"));
                }
                StageFourCeiling(onnx, rows, size, precision);
                double plain = ProgressiveSeconds(onnx, rows, size, progressiveEpochs, precision, cache: false);
                double fast = ProgressiveSeconds(onnx, rows, size, progressiveEpochs, precision, cache: true);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{"progressive run (s)",-22} {size,4} {mode,9}  {plain,10:F1} {fast,10:F1}  {plain / fast,16:F2}× faster"));
            }
        }
    }

    /// <summary>img/s of the epochs after the first, with <paramref name="groups"/> and the head trainable.</summary>
    private static (double Rate, string Compute) SteadyThroughput(byte[] onnx, FeatureSet rows, int size, string[] groups, PrecisionMode precision, bool cache)
    {
        using var model = Imported(onnx);
        model.FreezeBackbone();
        model.Unfreeze(groups);
        var result = new TrainingLoop(new TrainerOptions
        {
            Epochs = 3,
            RestoreBest = false,
            Precision = precision,
            FreezeBatchNormStatistics = true,
            CacheFrozenPrefix = cache,
        }).Fit(model, new ImageRowBatches(rows, 3, size, Batch, shuffle: true, seed: 0));
        return (Images / Median([.. result.Epochs.Skip(1).Select(e => e.Seconds)]), result.ComputeType);
    }

    /// <summary>
    /// resnet18's stage4 training multiply-adds over its forward's: the forward (411.0 M at 224), the
    /// weight gradients (the same again) and the input gradients of every convolution but the two that
    /// read the cached value (block 1's first 3×3 and its 1×1 downsample, 64.2 M), which need none.
    /// </summary>
    private const double StageFourTrainingOverForward = (411.0 + 411.0 + (411.0 - 64.2)) / 411.0;

    /// <summary>
    /// What the cache could give a stage4 epoch at most, from the pieces of one batch timed apart
    /// (fastest of 15: the least disturbed): the prefix's forward, stage4's forward, and stage4's
    /// forward and backward. With these kernels and nothing else in the step, an epoch is at most
    /// (prefix + stage4 fwd+bwd) / (stage4 fwd+bwd) faster; and if stage4's backward ran at its
    /// forward's rate per multiply-add, at most (prefix + 2.84 × stage4 fwd) / (2.84 × stage4 fwd).
    /// </summary>
    private static void StageFourCeiling(byte[] onnx, FeatureSet rows, int size, PrecisionMode precision)
    {
        using var model = Imported(onnx);
        model.FreezeBackbone();
        model.Unfreeze(["stage4"]);
        model.SetTrainingMode(true);
        foreach (var m in model.Network.modules().Where(m => m is OnnxNodeModule { OpType: "BatchNormalization" }))
            m.eval();
        using var layout = ChannelsLastScope.Enter(model.Network, MemoryFormat.Auto);
        var batches = new ImageRowBatches(rows, 3, size, Batch, shuffle: false, seed: 0);
        // What the trainer's epochs above ran in: auto asks the same probe (it remembers its choice per model and batch shape).
        var compute = precision == PrecisionMode.Auto && PrecisionPolicy.CpuSupportsBf16 ? PrecisionProbe.Choose(model, batches) : PrecisionPolicy.Resolve(precision);
        using var masters = compute == ScalarType.Float32 ? null : new MasterWeights(model.Network, compute);
        var split = (IFrozenPrefix)model.Backbone;
        int cut = split.FrozenPrefixLength;
        var (images, labels) = batches.Epoch(0).First();
        using var x = images.to(compute);
        using var prefix = split.ForwardPrefix(x, cut);
        double prefixMs = FastestMs(() => split.ForwardPrefix(x, cut));
        double forwardMs = FastestMs(() =>
        {
            using var noGrad = no_grad();
            return model.ForwardFromPrefix(prefix, cut);
        });
        double trainMs = FastestMs(() =>
        {
            var loss = nn.functional.cross_entropy(model.ForwardFromPrefix(prefix, cut), labels);
            loss.backward();
            model.Network.zero_grad();
            return loss;
        });
        double ideal = StageFourTrainingOverForward * forwardMs;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{"  stage4 ceiling",-22} {size,4} {compute,9}  one batch, fastest of 15: prefix forward {prefixMs:F1} ms, stage4 forward {forwardMs:F1} ms, forward+backward {trainMs:F1} ms; " +
            $"ceiling with these kernels {(prefixMs + trainMs) / trainMs:F2}×, if backward ran at forward's rate {(prefixMs + ideal) / ideal:F2}×"));
        images.Dispose();
        labels.Dispose();
    }

    private static double FastestMs(Func<Tensor> work)
    {
        double fastest = double.PositiveInfinity;
        for (int i = 0; i < 17; i++)
        {
            using var scope = NewDisposeScope();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            _ = work();
            if (i >= 2)
                fastest = Math.Min(fastest, clock.Elapsed.TotalMilliseconds);
        }
        return fastest;
    }

    private static double ProgressiveSeconds(byte[] onnx, FeatureSet rows, int size, int epochs, PrecisionMode precision, bool cache)
    {
        using var model = Imported(onnx);
        var options = BackboneModes.Options("progressive", epochs, 1e-3, LrScheduleKind.Cosine, seed: 0) with { CacheFrozenPrefix = cache, Precision = precision };
        return new TrainingLoop(options).Fit(model, new ImageRowBatches(rows, 3, size, Batch, shuffle: true, seed: 0)).Seconds;
    }

    private static byte[] Exported(int size)
    {
        using var shipped = TransferModel.Create("resnet18", Classes, seed: 0);
        return OnnxExporter.Export(shipped.Backbone.Network, new OnnxExportOptions { TraceInputSize = size }).ToByteArray();
    }

    private static TransferModel Imported(byte[] onnx)
    {
        manual_seed(1);
        return new TransferModel(OnnxImporter.ImportBackbone(onnx, "resnet18"), Classes);
    }

    /// <summary>Real test images, preprocessed at <paramref name="size"/> and kept as rows, as the agent keeps its samples.</summary>
    private static FeatureSet ImageRows(int size)
    {
        var set = FashionMnist.LoadTest().SamplePerClass(Images / Classes + 1, seed: 0);
        var pipeline = new ImagePipeline(new ImagePipelineOptions { InputSize = size });
        var images = new List<Tensor>();
        var labels = new List<Tensor>();
        foreach (var (x, y) in ImageTensorBatches.ForEvaluation(set, pipeline, 32).Epoch(0))
        {
            images.Add(x.flatten(1));
            labels.Add(y);
        }
        using var all = cat(images);
        using var allLabels = cat(labels);
        return new FeatureSet(all[..Images].clone(), allLabels[..Images].clone(), Classes);
    }
}
