using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop;
using EdgeTL.Trainer.Interop.Onnx;
using Google.Protobuf;
using static TorchSharp.torch;

namespace EdgeTL.Cloud;

/// <summary>
/// <c>import</c>: bring a user's weights in. A PyTorch state dict (<c>.pt</c>) or safetensors
/// file is loaded into a zoo backbone; any ONNX CNN is turned into a trainable backbone from
/// its graph. Either way the result is written as safetensors weights plus an ONNX backbone,
/// and checked against ONNX Runtime.
/// </summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "The file to import: .pt / .pth (torch.save of a state dict), .safetensors, or .onnx.", Required = true };
        var arch = new Option<string?>("--arch") { Description = "Zoo architecture the PyTorch weights belong to (required for .pt and .safetensors)." };
        var preprocess = new Option<string?>("--preprocess") { Description = "An ONNX preprocessing graph to chain in front of an ONNX backbone." };
        var skipHead = new Option<bool>("--skip-head") { Description = "Ignore a classifier (fc / classifier) of another shape in a PyTorch file." };
        var full = new Option<bool>("--full") { Description = "Keep an ONNX graph whole instead of ending it at its pooled features." };
        var output = new Option<string?>("--out") { Description = "Output folder (default out/import/<file name>)." };
        var pixels = new Option<string?>("--pixels") { Description = "What the model takes: imagenet (pixels normalized with ImageNet's mean and std, torchvision's way) or raw (0–255 RGB, for a graph that normalizes itself). Default: raw with --preprocess, else imagenet." };
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var command = new Command("import", "Import PyTorch (.pt, .safetensors) or ONNX weights as a trainable backbone; write weights.safetensors and backbone.onnx and check them against ONNX Runtime.")
        {
            from, arch, preprocess, skipHead, full, output, json, threads, pixels,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, _ =>
        {
            set_num_threads(parse.GetValue(threads));
            string source = parse.GetValue(from)!;
            string outDir = parse.GetValue(output) ?? Path.Combine("out", "import", Path.GetFileNameWithoutExtension(source));
            bool onnx = source.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);
            RefuseInapplicable(onnx, parse.GetValue(arch), parse.GetValue(preprocess), parse.GetValue(full), parse.GetValue(skipHead));
            string expected = parse.GetValue(pixels) ?? (parse.GetValue(preprocess) is null ? ImportFolder.ImageNetPixels : ImportFolder.RawPixels);
            if (expected is not (ImportFolder.ImageNetPixels or ImportFolder.RawPixels))
                throw CloudCliException.InvalidArguments($"--pixels '{expected}': expected {ImportFolder.ImageNetPixels} or {ImportFolder.RawPixels}.");
            RequireFile(source, "--from");
            if (parse.GetValue(preprocess) is { } graph)
                RequireFile(graph, "--preprocess");
            // Written into a fresh folder beside the destination and moved there only when the import succeeded:
            // a failed import leaves nothing behind.
            var summary = StagedOutput.Write(outDir, staging => onnx
                ? ImportOnnx(source, parse.GetValue(preprocess), parse.GetValue(full), staging)
                : ImportPyTorch(source, parse.GetValue(arch), parse.GetValue(skipHead), staging));
            summary = summary with
            {
                WeightsPath = Path.Combine(outDir, Path.GetFileName(summary.WeightsPath)),
                OnnxPath = Path.Combine(outDir, Path.GetFileName(summary.OnnxPath)),
                Pixels = expected,
            };
            File.WriteAllText(Path.Combine(Path.GetFullPath(outDir), ImportFolder.SummaryFile), JsonSerializer.Serialize(summary, CliJson.Default.ImportSummary));
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(summary, CliJson.Default.ImportSummary));
            else
                Print(summary);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>Flags that only one kind of source takes are refused for the other, not ignored.</summary>
    private static void RefuseInapplicable(bool onnx, string? arch, string? preprocess, bool full, bool skipHead)
    {
        var wrong = onnx
            ? new[] { (arch is not null, "--arch (an ONNX graph carries its own architecture)"), (skipHead, "--skip-head (an ONNX import ends at the pooled features unless --full)") }
            : [(preprocess is not null, "--preprocess (only an ONNX backbone takes a preprocessing graph)"), (full, "--full (only an ONNX graph can be kept whole)")];
        var given = wrong.Where(w => w.Item1).Select(w => w.Item2).ToList();
        if (given.Count > 0)
            throw new CloudCliException(ExitCodes.InvalidArguments, $"Not applicable to a{(onnx ? "n ONNX" : " PyTorch")} source: {string.Join("; ", given)}.");
    }

    private static void RequireFile(string path, string option)
    {
        if (!File.Exists(path))
            throw new CloudCliException(ExitCodes.DataError, $"{option}: '{path}' does not exist.");
    }

    private static ImportSummary ImportOnnx(string path, string? preprocess, bool full, string outDir)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (preprocess is not null)
            bytes = OnnxModels.Chain(File.ReadAllBytes(preprocess), bytes);
        using var scope = NewDisposeScope();
        using var module = full ? OnnxImporter.Import(bytes, path) : OnnxImporter.ImportBackbone(bytes, path);
        module.eval();   // the probes below must not move BatchNorm running statistics
        // backbone.onnx is [N, D] whatever its source, as a PyTorch import's is, and takes any batch.
        var proto = full ? module.ToModelProto() : OnnxModels.ShippedBackbone(module);
        byte[] exported = proto.ToByteArray();
        string onnxPath = Path.Combine(outDir, "backbone.onnx");
        string weightsPath = Path.Combine(outDir, "weights.safetensors");
        File.WriteAllBytes(onnxPath, exported);
        SafeTensors.Save(module.state_dict(), weightsPath, new Dictionary<string, string> { ["source"] = Path.GetFileName(path), ["format"] = "edgetl-onnx-import" });

        // The imported module against ONNX Runtime running the user's own file.
        int side = module.MinInputSize > BackboneZoo.MinInputSize ? module.MinInputSize : 64;
        var probe = randn(1, 3, side, side, generator: new Generator(0)) * (preprocess is null ? 1 : 64) + (preprocess is null ? 0 : 128);
        double diff = full
            ? OnnxValidation.Compare(module, bytes, probe).MaxAbsDifference
            : OnnxValidation.Compare(module, exported, probe).MaxAbsDifference;
        return new ImportSummary(path, "onnx", module.Architecture, module.Opset, module.FeatureDim,
            module.MinInputSize > BackboneZoo.MinInputSize ? module.MinInputSize : null,
            module.parameters().Sum(p => p.numel()), Groups(module.LayerGroups), module.state_dict().Count, [], diff, weightsPath, onnxPath);
    }

    private static ImportSummary ImportPyTorch(string path, string? arch, bool skipHead, string outDir)
    {
        if (string.IsNullOrEmpty(arch))
            throw new FormatException("--arch is required for PyTorch weights (.pt, .safetensors): which zoo architecture are they for?");
        using var scope = NewDisposeScope();
        var reference = BackboneZoo.CreateReference(arch);
        var report = WeightFiles.Load(reference, path, new WeightLoadOptions { SkipHead = skipHead });
        using var backbone = BackboneZoo.Create(arch);
        StateDictLoader.Load(backbone, reference.state_dict(), new WeightLoadOptions { SkipHead = true });
        string weightsPath = Path.Combine(outDir, "weights.safetensors");
        string onnxPath = Path.Combine(outDir, "backbone.onnx");
        SafeTensors.Save(backbone.state_dict(), weightsPath, new Dictionary<string, string> { ["architecture"] = arch, ["source"] = Path.GetFileName(path) });
        OnnxExporter.Save(backbone, onnxPath);
        var probe = randn(2, 3, 64, 64, generator: new Generator(0));
        double diff = OnnxValidation.Compare(backbone, File.ReadAllBytes(onnxPath), probe).MaxAbsDifference;
        return new ImportSummary(path, FormatName(report.Format), arch, OnnxExportOptions.MaxOpset, backbone.FeatureDim, null,
            backbone.parameters().Sum(p => p.numel()), Groups(backbone.LayerGroups), report.Loaded.Count, report.Skipped, diff, weightsPath, onnxPath);
    }

    /// <summary>The format found in the file (not its extension), as <c>import --json</c> names it.</summary>
    private static string FormatName(WeightFormat? format) => format switch
    {
        WeightFormat.PyTorch => "pt",
        WeightFormat.SafeTensors => "safetensors",
        WeightFormat.TorchSharp => "torchsharp",
        _ => "unknown",
    };

    private static List<GroupSummary> Groups(IEnumerable<EdgeTL.Trainer.Models.LayerGroup> groups) =>
        [.. groups.Select(g => new GroupSummary(g.Name, g.ParameterCount))];

    private static void Print(ImportSummary s)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine($"Imported {s.Source} ({s.Format}) as '{s.Architecture}'" + (s.Opset is int o ? $", opset {o}" : ""));
        string fixedSize = s.FixedInputSize is int size ? string.Create(c, $"    input fixed at {size}×{size}") : "";
        Console.WriteLine(string.Create(c, $"  features: {s.FeatureDim}    parameters: {s.Parameters:N0}    tensors loaded: {s.LoadedTensors}{fixedSize}"));
        foreach (var g in s.Groups)
            Console.WriteLine(string.Create(c, $"  {g.Name,-10} {g.Parameters,12:N0} parameters"));
        if (s.SkippedKeys.Count > 0)
            Console.WriteLine($"  skipped: {string.Join(", ", s.SkippedKeys)}");
        Console.WriteLine(string.Create(c, $"  check against ONNX Runtime: max |Δ| = {s.MaxAbsDifferenceVsOnnxRuntime:E2}"));
        Console.WriteLine($"  wrote {s.WeightsPath} and {s.OnnxPath}");
    }
}
