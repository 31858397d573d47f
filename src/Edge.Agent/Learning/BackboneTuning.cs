using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using EdgeTL.Trainer.Training.Precision;
using Google.Protobuf;
using static TorchSharp.torch;

namespace EdgeTL.Agent.Learning;

/// <summary>
/// Fine-tunes the served backbone on the device. The trainable module is built from the served
/// ONNX file itself (<see cref="OnnxImporter.ImportBackbone(string, OnnxImportOptions?)"/>), so it
/// works for any package, with or without trainer weights; the head starts from the serving device
/// head when it is a seed head of the same shape, else fresh. After training, the backbone is
/// written back to ONNX in its original opset and the head on its own, and both are checked in ONNX
/// Runtime against the module.
/// </summary>
public static class BackboneTuning
{
    /// <summary>The largest |Δ| between the module and its export that is accepted.</summary>
    public const double ExportTolerance = 1e-4;

    /// <summary>
    /// A trainable backbone (imported from <paramref name="backboneOnnx"/>) plus the seed head of
    /// <paramref name="classes"/> outputs, starting from <paramref name="servingHead"/> (the device head)
    /// or else from the package's ONNX head at <paramref name="packageHeadOnnx"/>, when either has the
    /// seed head's shape; otherwise fresh. <paramref name="headCarried"/> says whether a head was carried over.
    /// </summary>
    public static TransferModel Build(string backboneOnnx, int classes, nn.Module<Tensor, Tensor>? servingHead, string? packageHeadOnnx, int seed,
        out bool headCarried)
    {
        manual_seed(seed);
        var backbone = OnnxImporter.ImportBackbone(backboneOnnx, new OnnxImportOptions { Name = "served" });
        var model = new TransferModel(backbone, classes);
        headCarried = false;
        if (servingHead is not null)
            headCarried = CopyIfSameShape(servingHead, model.Head);
        else if (packageHeadOnnx is not null)
        {
            using var shipped = OnnxImporter.Import(packageHeadOnnx, new OnnxImportOptions { Name = "shipped-head" });
            headCarried = CopyIfSameShape(shipped, model.Head);
        }
        return model;
    }

    /// <summary>Trains <paramref name="model"/> on image rows with the schedule and rates of <paramref name="settings"/>.Mode (<see cref="BackboneModes"/>).</summary>
    public static TrainingResult Train(TransferModel model, LabelledFeatures train, int side, FinetuneSettings settings,
        IProgress<EpochMetrics>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(settings);
        using var rows = HeadFitting.ToFeatureSet(train);
        int batch = Math.Min(16, train.Count);
        return new TrainingLoop(Options(settings)).Fit(model, new ImageRowBatches(rows, 3, side, batch, shuffle: true, settings.Seed),
            progress: progress, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// The training options of a backbone mode (<see cref="BackboneModes.Options"/>: its schedule, rates,
    /// BatchNorm rule and the precision policy), with the head fit's divergence guard.
    /// </summary>
    public static TrainerOptions Options(FinetuneSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var schedule = settings.Schedule switch { "step" => LrScheduleKind.Step, "constant" => LrScheduleKind.Constant, _ => LrScheduleKind.Cosine };
        return BackboneModes.Options(settings.Mode, settings.Epochs, settings.LearningRate, schedule, settings.Seed) with
        {
            DivergenceFactor = HeadFitting.DivergenceFactor,
        };
    }

    /// <summary>Accuracy of <paramref name="model"/> on image rows.</summary>
    public static double Accuracy(TransferModel model, LabelledFeatures set, int side)
    {
        var correct = Correct(model, set, side);
        return correct.Count(c => c) / (double)correct.Length;
    }

    /// <summary>Whether <paramref name="model"/> classifies each image row right (what the promotion guard pairs).</summary>
    public static bool[] Correct(TransferModel model, LabelledFeatures set, int side)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(set);
        if (set.Count == 0)
            return [];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.SetTrainingMode(false);
        var predicted = model.forward(tensor(set.Features).view(set.Count, 3, side, side)).argmax(1);
        return [.. predicted.eq(tensor(set.Labels.Select(l => (long)l).ToArray())).data<bool>()];
    }

    /// <summary>
    /// Writes the backbone (original opset, current weights) and the head as two ONNX files into
    /// <paramref name="folder"/>, runs both in ONNX Runtime on <paramref name="check"/>'s images, and
    /// returns the paths and the largest |Δ| from the module (features, then logits from the module's features).
    /// </summary>
    public static (string Backbone, string Head, double MaxAbsDifference) Export(TransferModel model, LabelledFeatures check, int side, string folder)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(check);
        Directory.CreateDirectory(folder);
        var backbone = (OnnxGraphModule)model.Backbone;
        model.SetTrainingMode(false);
        string backbonePath = Path.Combine(folder, "backbone.onnx"), headPath = Path.Combine(folder, "head.onnx");
        File.WriteAllBytes(backbonePath, backbone.ToModelProto().ToByteArray());
        OnnxExporter.Save(model.Head, headPath);

        float[] features, logits;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var f = backbone.ForwardFeatures(tensor(check.Features).view(check.Count, 3, side, side));
            features = f.data<float>().ToArray();
            logits = model.Head.forward(f).data<float>().ToArray();
        }
        using var backboneRun = OnnxModel.Load(backbonePath);
        using var headRun = OnnxModel.Load(headPath);
        var (onnxFeatures, _) = backboneRun.Run(check.Features, [check.Count, 3, side, side]);
        var (onnxLogits, _) = headRun.Run(features, [check.Count, features.Length / check.Count]);
        return (backbonePath, headPath, Math.Max(MaxAbsDifference(features, onnxFeatures), MaxAbsDifference(logits, onnxLogits)));
    }

    /// <summary>Features of the golden inputs (float32 NCHW file) through the backbone ONNX at <paramref name="backboneOnnx"/>, written beside it.</summary>
    public static string GoldenOutputs(string backboneOnnx, string goldenInputs, int count, int side)
    {
        float[] inputs = GoldenCheck.ReadFloats(goldenInputs);
        using var run = OnnxModel.Load(backboneOnnx);
        string path = Path.Combine(Path.GetDirectoryName(backboneOnnx)!, "golden-features.f32");
        GoldenCheck.WriteFloats(path, GoldenCheck.Features(run, inputs, count));
        return path;
    }

    private static double MaxAbsDifference(float[] a, float[] b)
    {
        if (a.Length != b.Length)
            return double.PositiveInfinity;
        double worst = 0;
        for (int i = 0; i < a.Length; i++)
            worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        return worst;
    }

    private static bool CopyIfSameShape(nn.Module<Tensor, Tensor> from, nn.Module<Tensor, Tensor> to)
    {
        var source = from.parameters().ToList();
        var target = to.parameters().ToList();
        if (source.Count != target.Count || source.Zip(target).Any(p => !p.First.shape.SequenceEqual(p.Second.shape)))
            return false;
        using var noGrad = no_grad();
        foreach (var (s, t) in source.Zip(target))
            t.copy_(s);
        return true;
    }
}
