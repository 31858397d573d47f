using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeTL.Trainer;
using EdgeTL.Trainer.Backbones;
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
        var classes = new Option<int>("--classes") { Description = "Classes of the seed head.", DefaultValueFactory = _ => 10 };
        var weights = new Option<string?>("--weights") { Description = "Weights: a pretrain checkpoint, or a .pt / .safetensors state dict (a classifier of another shape is skipped). Default: random initialization." };
        var part = new Option<string>("--part") { Description = "What to export: model (backbone + seed head), backbone, or head.", DefaultValueFactory = _ => "model" };
        var opset = new Option<int>("--opset") { Description = "ONNX opset, 13 to 17.", DefaultValueFactory = _ => OnnxExportOptions.MaxOpset };
        var fp16 = new Option<bool>("--fp16") { Description = "Also write the float16 variant (<name>.fp16.onnx) for GPU serving." };
        var size = new Option<int>("--size") { Description = "Input side used to trace and check the export (the file accepts any side).", DefaultValueFactory = _ => 64 };
        var output = new Option<string?>("--out") { Description = "ONNX file to write (default out/export/<arch>-<part>.onnx)." };
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var command = new Command("export-onnx", "Export a zoo model, backbone or head as ONNX (opset 13-17, dynamic batch), checked in ONNX Runtime.")
        {
            arch, classes, weights, part, opset, fp16, size, output, json, threads,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(_ =>
        {
            set_num_threads(parse.GetValue(threads));
            string architecture = parse.GetValue(arch)!;
            string what = parse.GetValue(part)!;
            if (what is not ("model" or "backbone" or "head"))
                throw new FormatException($"--part must be model, backbone or head, not '{what}'.");
            BackboneZoo.EnsureKnown(architecture);
            using var scope = NewDisposeScope();
            var model = TransferModel.Create(architecture, parse.GetValue(classes), seed: 0);
            string weightsPath = parse.GetValue(weights) ?? "";
            if (weightsPath.Length > 0)
                ModelWeights.Load(model, weightsPath);
            model.eval();
            nn.Module<Tensor, Tensor> exported = what switch
            {
                "backbone" => model.Backbone.Network,
                "head" => new HeadModel(model.Head, model.Backbone.FeatureDim, model.ClassCount),
                _ => model,
            };
            int traceSize = parse.GetValue(size);
            var probe = what == "head"
                ? randn(4, model.Backbone.FeatureDim, generator: new Generator(0))
                : randn(2, 3, traceSize, traceSize, generator: new Generator(0));
            string path = parse.GetValue(output) ?? Path.Combine("out", "export", $"{architecture}-{what}.onnx");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);

            var files = new List<ExportedFile>();
            bool[] precisions = parse.GetValue(fp16) ? [false, true] : [false];
            foreach (bool half in precisions)
            {
                var options = new OnnxExportOptions { Opset = parse.GetValue(opset), Float16 = half, TraceInputSize = Math.Max(traceSize, BackboneZoo.MinInputSize) };
                byte[] bytes = OnnxExporter.Export(exported, options).ToByteArray();
                string filePath = half ? Path.ChangeExtension(path, ".fp16.onnx") : path;
                File.WriteAllBytes(filePath, bytes);
                var (diff, scale) = OnnxValidation.Compare(exported, bytes, probe);
                double bound = half ? 1e-2 * Math.Max(1, scale) : 1e-4 * Math.Max(1, scale);
                if (diff > bound)
                    throw new EdgeTrainerException(TrainerErrorCode.UnsupportedExport,
                        string.Create(CultureInfo.InvariantCulture, $"{filePath}: ONNX Runtime differs from TorchSharp by {diff:E2} (> {bound:E2})."));
                files.Add(new ExportedFile(filePath, bytes.Length, half, diff, scale));
            }
            var summary = new ExportSummary(architecture, what, parse.GetValue(opset), model.ClassCount, weightsPath.Length > 0 ? weightsPath : "random", files);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(summary, CliJson.Default.ExportSummary));
            }
            else
            {
                Console.WriteLine($"Exported {architecture} {what} (opset {summary.Opset}, weights: {summary.Weights})");
                foreach (var f in files)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {f.Path}  {f.Bytes / 1e6:F1} MB  {(f.Float16 ? "fp16" : "fp32")}  ONNX Runtime vs TorchSharp max |Δ| = {f.MaxAbsDifference:E2} (outputs up to {f.OutputScale:F2})"));
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
