using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeTL.Trainer;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Models;
using Google.Protobuf;
using static TorchSharp.torch;

namespace EdgeTL.Cloud;

/// <summary><c>export-onnx</c>: write a zoo model, its backbone or its head as ONNX (fp32, and fp16 on request), each file checked in ONNX Runtime.</summary>
internal static class ExportOnnxCommand
{

    public static Command Create()
    {
        var arch = CommonOptions.Architecture();
        var classes = new Option<int?>("--classes") { Description = "Classes of the head (default: the weights' own classifier's, else 10 for a new seed head)." };
        var seedHead = new Option<bool>("--seed-head") { Description = "Replace the weights' classifier (or the missing one) with a new, randomly initialized seed head Linear-ReLU-Dropout-Linear." };
        var weights = new Option<string?>("--weights") { Description = "Weights: a pretrain checkpoint, or a .pt / .safetensors state dict (a classifier of another shape is skipped). Default: random initialization." };
        var part = new Option<string>("--part") { Description = "What to export: model (backbone + seed head), backbone, or head.", DefaultValueFactory = _ => "model" };
        var opset = new Option<int>("--opset") { Description = "ONNX opset, 13 to 17.", DefaultValueFactory = _ => OnnxExportOptions.MaxOpset };
        var fp16 = new Option<bool>("--fp16") { Description = "Also write the float16 variant (<name>.fp16.onnx) for GPU serving." };
        var size = new Option<int>("--size") { Description = "Input side used to trace and check the export (the file accepts any side).", DefaultValueFactory = _ => 64 };
        var output = new Option<string?>("--out") { Description = "ONNX file to write (default out/export/<arch>-<part>.onnx)." };
        var from = new Option<string?>("--from") { Description = "An import output folder (backbone.onnx, weights.safetensors): export that imported graph, with its weights, instead of a zoo model." };
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var command = new Command("export-onnx", "Export a zoo model, backbone or head as ONNX (opset 13-17, dynamic batch), checked in ONNX Runtime.")
        {
            arch, classes, weights, part, opset, fp16, size, output, json, threads, seedHead, from,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, _ =>
        {
            set_num_threads(parse.GetValue(threads));
            var writer = parse.InvocationConfiguration.Output;
            string architecture = parse.GetValue(arch)!;
            string what = parse.GetValue(part)!;
            if (what is not ("model" or "backbone" or "head"))
                throw new FormatException($"--part must be model, backbone or head, not '{what}'.");
            using var scope = NewDisposeScope();
            string weightsPath = parse.GetValue(weights) ?? "";
            int traceSize = parse.GetValue(size);
            nn.Module<Tensor, Tensor> exported;
            int classCount, featureDim;
            string? headNote;
            if (parse.GetValue(from) is { } folder)
            {
                var given = new[] { (arch, "--arch"), ((Option)classes, "--classes"), (weights, "--weights"), (seedHead, "--seed-head") }
                    .Where(o => parse.GetResult(o.Item1) is { Implicit: false }).Select(o => o.Item2).ToList();
                if (given.Count > 0 || what != "model" && what != "backbone")
                    throw new CloudCliException(ExitCodes.InvalidArguments,
                        $"--from exports the imported backbone as it is: {string.Join(", ", given.Append(what is "model" or "backbone" ? "" : $"--part {what}").Where(g => g.Length > 0))} do not apply.");
                var imported = ImportFolder.Backbone(folder);
                (exported, classCount, featureDim, headNote, architecture, what) = (imported, 0, imported.FeatureDim, null, imported.Architecture, "backbone");
                weightsPath = Path.Combine(folder, "weights.safetensors");
                if (imported.MinInputSize > BackboneZoo.MinInputSize)
                    traceSize = imported.MinInputSize;   // a graph with a fixed input size is traced and checked at it
            }
            else
            {
                BackboneZoo.EnsureKnown(architecture);
                var (module, model, note) = Select(architecture, what, weightsPath, parse.GetValue(classes), parse.GetValue(seedHead));
                (exported, classCount, featureDim, headNote) = (module, model.ClassCount, model.Backbone.FeatureDim, note);
            }
            var probe = what == "head"
                ? randn(4, featureDim, generator: new Generator(0))
                : randn(2, 3, traceSize, traceSize, generator: new Generator(0));
            string path = parse.GetValue(output) ?? Path.Combine("out", "export", $"{architecture}-{what}.onnx");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);

            var files = new List<ExportedFile>();
            bool[] precisions = parse.GetValue(fp16) ? [false, true] : [false];
            foreach (bool half in precisions)
            {
                var options = new OnnxExportOptions { Opset = parse.GetValue(opset), Float16 = half, TraceInputSize = Math.Max(traceSize, BackboneZoo.MinInputSize) };
                var proto = OnnxExporter.Export(exported, options);
                if (exported is OnnxGraphModule)
                {
                    using var noGrad = no_grad();
                    using var output = exported.forward(probe);
                    OnnxModels.FlattenPooledOutput(proto, (int)output.dim(), featureDim);   // [N, D], as import writes it
                }
                byte[] bytes = proto.ToByteArray();
                string filePath = half ? Path.ChangeExtension(path, ".fp16.onnx") : path;
                File.WriteAllBytes(filePath, bytes);
                var (diff, scale) = OnnxValidation.Compare(exported, bytes, probe);
                double bound = half ? 1e-2 * Math.Max(1, scale) : 1e-4 * Math.Max(1, scale);
                if (diff > bound)
                    throw new EdgeTrainerException(TrainerErrorCode.UnsupportedExport,
                        string.Create(CultureInfo.InvariantCulture, $"{filePath}: ONNX Runtime differs from TorchSharp by {diff:E2} (> {bound:E2})."));
                files.Add(new ExportedFile(filePath, bytes.Length, half, diff, scale));
            }
            var summary = new ExportSummary(architecture, what, parse.GetValue(opset), classCount, weightsPath.Length > 0 ? weightsPath : "random", files, headNote);
            if (parse.GetValue(json))
            {
                writer.WriteLine(JsonSerializer.Serialize(summary, CliJson.Default.ExportSummary));
            }
            else
            {
                writer.WriteLine($"Exported {architecture} {what} (opset {summary.Opset}, weights: {summary.Weights}){(headNote is null ? "" : $"; {headNote}")}");
                foreach (var f in files)
                    writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {f.Path}  {f.Bytes / 1e6:F1} MB  {(f.Float16 ? "fp16" : "fp32")}  ONNX Runtime vs TorchSharp max |Δ| = {f.MaxAbsDifference:E2} (outputs up to {f.OutputScale:F2})"));
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>
    /// What to export, and what to say about its head. With a torchvision classifier in the weights, the
    /// model is torchvision's own with that classifier (its logits are PyTorch's). A seed head is added
    /// only with <c>--seed-head</c>, or for a random model, and the note says it is untrained.
    /// </summary>
    private static (nn.Module<Tensor, Tensor> Exported, TransferModel Model, string? HeadNote) Select(
        string architecture, string part, string weightsPath, int? classes, bool seedHead)
    {
        int? classifier = weightsPath.Length > 0 && !seedHead && part != "backbone" ? ModelWeights.TorchvisionClassifierClasses(architecture, weightsPath) : null;
        if (classifier is int c)
        {
            if (classes is int asked && asked != c)
                throw new CloudCliException(ExitCodes.InvalidArguments, $"--classes {asked}, but the weights' classifier has {c} classes: leave --classes out to keep it, or pass --seed-head to replace it.");
            if (part == "head")
                throw new CloudCliException(ExitCodes.InvalidArguments, "--part head exports a seed head; these weights carry torchvision's classifier: export --part model to keep it, or pass --seed-head.");
            var kept = ModelWeights.WithTorchvisionClassifier(architecture, weightsPath, c);
            kept.eval();
            return (kept, kept, $"torchvision's classifier kept ({c} classes)");
        }
        int headClasses = classes ?? 10;
        var model = TransferModel.Create(architecture, headClasses, seed: 0);
        bool headLoaded = weightsPath.Length > 0 && ModelWeights.Load(model, weightsPath);
        model.eval();
        string? note = null;
        if (part != "backbone" && !headLoaded)
        {
            if (weightsPath.Length > 0 && !seedHead)
                throw new CloudCliException(ExitCodes.InvalidArguments,
                    $"The weights carry no classifier of {headClasses} classes for {architecture}: pass --seed-head to export a new, randomly initialized seed head (it must be trained before it predicts anything), or --part backbone.");
            note = $"a new seed head of {headClasses} classes, randomly initialized: train it before serving";
        }
        nn.Module<Tensor, Tensor> exported = part switch
        {
            "backbone" => model.Backbone.Network,
            "head" => new HeadModel(model.Head, model.Backbone.FeatureDim, model.ClassCount),
            _ => model,
        };
        return (exported, model, note);
    }
}
