using System.CommandLine;
using System.Text.Json;
using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Meta;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Packaging;
using static TorchSharp.torch;

namespace EdgeTL.Cloud;

/// <summary>
/// <c>package</c>: a signed model package from pretrained weights — backbone ONNX (fp32, and fp16
/// on request), head ONNX, weights, golden inputs and features from the bundled Fashion-MNIST
/// test images, and the manifest with normalization, labels and layer groups.
/// </summary>
internal static class PackageCommand
{
    public static Command Create()
    {
        var arch = CommonOptions.Architecture();
        var weights = new Option<string?>("--weights") { Description = "A pretrain checkpoint, or a .pt / .safetensors state dict." };
        var fromTrain = new Option<string?>("--from-train") { Description = "A train output folder: its model, classes, input size and golden images (from the user's validation images)." };
        var fromImport = new Option<string?>("--from-import")
        {
            Description = "An import output folder (an imported ONNX graph or PyTorch backbone): its backbone, weights, input size and pixels, with a new head the device trains (cold start). Name the classes with --classes or --labels-from.",
        };
        var classes = new Option<string[]>("--classes") { Description = "Class names in output order (space or comma separated).", AllowMultipleArgumentsPerToken = true };
        var labelsFrom = new Option<string?>("--labels-from") { Description = "Take the class names from an image folder (one sub-folder per class, ordinal order) or 'fashion-mnist'." };
        var size = CommonOptions.InputSize();
        var fp16 = new Option<bool>("--fp16") { Description = "Also ship the float16 backbone for GPU serving." };
        var headInit = new Option<string?>("--head-init") { Description = "A meta-learned head initialization (meta-pretrain's output) to ship for cold start." };
        var key = new Option<string>("--key") { Description = "Private signing key (keys new's <name>.key.pem).", Required = true };
        var counter = new Option<long>("--counter") { Description = "Monotonic version counter (devices refuse lower ones).", Required = true };
        var version = new Option<string>("--version") { Description = "Version string, e.g. 1.2.0.", Required = true };
        var name = new Option<string?>("--name") { Description = "Model name (default fmnist-<arch>)." };
        var golden = new Option<int>("--golden") { Description = "Golden images for the device's health gate.", DefaultValueFactory = _ => 4 };
        var asDirectory = new Option<bool>("--directory") { Description = "Write the directory form instead of one tar file." };
        var output = new Option<string>("--out") { Description = "Package file (.tar) or folder to write.", Required = true };
        var data = CommonOptions.Data();
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var int8 = new Option<bool>("--int8") { Description = "Also ship a calibrated int8 backbone (QDQ), scored against fp32 on held-out images; a device serves it only where its own gate passes." };
        var int8Method = new Option<string>("--int8-method") { Description = "Calibration for --int8: minmax, percentile or entropy.", DefaultValueFactory = _ => "percentile" };
        var calibration = new Option<string?>("--calibration") { Description = "Images to calibrate --int8 on (default: the training run's train/ folder)." };
        var int8Data = new Option<string?>("--int8-data") { Description = "Held-out labelled images --int8 is scored on (default: the training run's val/ folder)." };
        var int8Budget = new Option<double>("--int8-budget") { Description = "The most held-out accuracy, in points, a device lets the int8 backbone lose against fp32.", DefaultValueFactory = _ => 1.0 };
        var calibrationImages = new Option<int>("--calibration-images") { Description = "Most calibration images used for --int8.", DefaultValueFactory = _ => 64 };
        var command = new Command("package", "Build a signed model package (ONNX backbone and head, weights, golden set, manifest) from pretrained weights.")
        {
            arch, weights, classes, labelsFrom, size, fp16, headInit, key, counter, version, name, golden, asDirectory, output, data, json, threads, fromTrain, fromImport,
            int8, int8Method, calibration, int8Data, int8Budget, calibrationImages,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, ct =>
        {
            set_num_threads(parse.GetValue(threads));
            bool asJson = parse.GetValue(json);
            var console = new CliConsole(parse, asJson);
            if (parse.GetValue(fromTrain) is not null && parse.GetValue(fromImport) is not null)
                throw CloudCliException.InvalidArguments("Give --from-train or --from-import, not both.");
            var source = parse.GetValue(fromTrain) is { } trained ? TrainedSource.Read(trained, parse, [arch, weights, classes, labelsFrom, size, data])
                : parse.GetValue(fromImport) is { } importDir ? ImportedSource(importDir, parse, arch, weights, classes, labelsFrom, size, data)
                : FlagSource(parse, arch, weights, classes, labelsFrom, size, data);
            string architecture = source.Architecture;
            var labels = source.Labels;
            int inputSize = source.InputSize;
            using var signingKey = LoadPrivateKey(parse.GetValue(key)!);
            string weightsPath = source.Weights;
            string outPath = parse.GetValue(output)!;
            var int8Request = parse.GetValue(int8) ? Int8Options(parse, source, parse.GetValue(fromTrain) is not null, parse.GetValue(fromImport) is not null, int8Method, calibration, int8Data, int8Budget, calibrationImages) : null;
            string? staged = int8Request is null ? null : Directory.CreateTempSubdirectory("edgetl-package-int8-").FullName;
            using var init = parse.GetValue(headInit) is { } initPath ? MetaInitialization.Load(initPath) : null;
            ct.ThrowIfCancellationRequested();

            var manifest = console.Status($"Packaging {architecture} ({labels.Count} classes)", status =>
            {
                using var scope = NewDisposeScope();
                // A PyTorch state dict with torchvision's classifier for these classes (a DDP run's output) ships as it is:
                // the package's logits are PyTorch's. Anything else gets the seed head, loaded when the weights hold one.
                int? torchvisionClasses = source.ImportFolder is null ? ModelWeights.TorchvisionClassifierClasses(architecture, weightsPath) : null;
                status("loading weights");
                using var model = source.ImportFolder is { } imported
                    ? new TransferModel(ImportFolder.Backbone(imported), labels.Count)
                    : torchvisionClasses == labels.Count
                        ? ModelWeights.WithTorchvisionClassifier(architecture, weightsPath, labels.Count)
                        : TransferModel.Create(architecture, labels.Count, seed: 0);
                bool headLoaded = torchvisionClasses == labels.Count || (!source.BackboneHasWeights && ModelWeights.Load(model, weightsPath));
                if (torchvisionClasses == labels.Count)
                    status($"torchvision's classifier kept ({labels.Count} classes)");
                else if (!headLoaded)
                    status($"the head of '{Path.GetFileName(weightsPath)}' does not fit {labels.Count} classes: shipping a fresh head (the device trains it)");
                status("exporting ONNX, checking it in ONNX Runtime, hashing and signing");
                string? parent = Path.GetDirectoryName(Path.GetFullPath(outPath));
                if (parent is not null)
                    Directory.CreateDirectory(parent);
                return ModelPackager.Write(model, new PackageRequest
                {
                    Name = parse.GetValue(name) ?? $"{source.DatasetShortName}-{architecture}",
                    Version = parse.GetValue(version)!,
                    Counter = parse.GetValue(counter),
                    Labels = labels,
                    Input = new ImagePipelineOptions { InputSize = inputSize, Normalization = ImportFolder.Normalization(source.Pixels) },
                    GoldenImages = source.Golden,
                    GoldenCount = parse.GetValue(golden),
                    IncludeFloat16 = parse.GetValue(fp16),
                    HeadInitialization = init,
                    AsDirectory = staged is not null || parse.GetValue(asDirectory),
                    Provenance = new Provenance
                    {
                        CreatedAt = DateTimeOffset.UtcNow,
                        Tool = "edgetl-cloud package",
                        Dataset = source.Dataset,
                        BaseModel = Path.GetFileName(weightsPath),
                    },
                }, signingKey, staged is null ? outPath : Path.Combine(staged, "fp32"));
            });
            if (staged is not null)
            {
                try
                {
                    (manifest, var result) = console.Status("Quantizing the backbone to int8 and scoring it against fp32",
                        _ => PackageInt8.Add(Path.Combine(staged, "fp32"), manifest, int8Request!, signingKey, outPath, parse.GetValue(asDirectory), ct));
                    foreach (var line in result.Lines())
                        console.Line(line);
                }
                finally
                {
                    Directory.Delete(staged, recursive: true);
                }
            }
            var summary = PackageSummary.From(Path.GetFullPath(outPath), manifest, signingKey.KeyId);
            if (asJson)
                console.Out.WriteLine(JsonSerializer.Serialize(summary, CliJson.Default.PackageSummary));
            else
                PackageSummary.Print(summary, console.Out);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>What the flags name: zoo architecture, weights, labels, size; golden images from the Fashion-MNIST test set.</summary>
    private static PackageSource FlagSource(ParseResult parse, Option<string> arch, Option<string?> weights, Option<string[]> classes, Option<string?> labelsFrom,
        Option<int> size, Option<string?> data)
    {
        string architecture = parse.GetValue(arch)!;
        BackboneZoo.EnsureKnown(architecture);
        string weightsPath = parse.GetValue(weights)
            ?? throw CloudCliException.InvalidArguments("--weights (or --from-train) is required: the model to package.");
        var labels = Labels(parse.GetValue(classes), parse.GetValue(labelsFrom));
        int inputSize = parse.GetValue(size);
        if (inputSize < BackboneZoo.MinInputSize)
            throw CloudCliException.InvalidArguments($"--size must be at least {BackboneZoo.MinInputSize}.");
        var test = FashionMnist.LoadTest(parse.GetValue(data));
        return new PackageSource(architecture, weightsPath, labels, inputSize, test.SamplePerClass(1, seed: 1), "fashion-mnist", "fmnist");
    }

    /// <summary>
    /// An import folder: its backbone (an imported graph, or a zoo architecture with the imported weights), its fixed
    /// input size or <c>--size</c>, and its pixels. The golden images only check numerics on the device, so the
    /// bundled Fashion-MNIST test images serve; the provenance names the import, not a dataset.
    /// </summary>
    private static PackageSource ImportedSource(string folder, ParseResult parse, Option<string> arch, Option<string?> weights, Option<string[]> classes,
        Option<string?> labelsFrom, Option<int> size, Option<string?> data)
    {
        var given = new Option[] { arch, weights }.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (given.Count > 0)
            throw CloudCliException.InvalidArguments($"--from-import takes the backbone and its weights from the import folder: {string.Join(", ", given)} do not apply.");
        var import = ImportFolder.Read(folder);
        var labels = Labels(parse.GetValue(classes), parse.GetValue(labelsFrom));
        int inputSize = import.FixedInputSize ?? parse.GetValue(size);
        if (import.FixedInputSize is int fixedSize && parse.GetResult(size) is { Implicit: false } && parse.GetValue(size) != fixedSize)
            throw CloudCliException.InvalidArguments($"--size {parse.GetValue(size)}: the imported graph takes {fixedSize}×{fixedSize} only.");
        if (inputSize < BackboneZoo.MinInputSize)
            throw CloudCliException.InvalidArguments($"--size must be at least {BackboneZoo.MinInputSize}.");
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))).ToLowerInvariant();
        var golden = FashionMnist.LoadTest(parse.GetValue(data)).SamplePerClass(1, seed: 1);
        return new PackageSource(import.Architecture, import.WeightsPath, labels, inputSize, golden, $"none: a backbone imported from {import.Source}", name)
        {
            ImportFolder = import.Format == "onnx" ? Path.GetFullPath(folder) : null,
            BackboneHasWeights = import.Format == "onnx",
            Pixels = import.Pixels,
        };
    }

    /// <summary>The <c>--int8</c> settings; a training run's folders are the defaults for calibration (train/) and scoring (val/).</summary>
    private static Int8Request Int8Options(ParseResult parse, PackageSource source, bool trained, bool imported, Option<string> method, Option<string?> calibration, Option<string?> data,
        Option<double> budget, Option<int> images)
    {
        if (imported)
            throw CloudCliException.InvalidArguments("--int8 scores the int8 backbone through the package's head, and an imported backbone's head is untrained: train it first, then package --from-train … --int8.");
        var methods = QuantizeCommand.Methods(parse.GetValue(method)!);
        if (methods.Length != 1)
            throw CloudCliException.InvalidArguments("--int8-method: give one of minmax, percentile or entropy (quantize --method all compares them).");
        if (!(parse.GetValue(budget) is >= 0 and <= 100))
            throw CloudCliException.InvalidArguments("--int8-budget must be between 0 and 100 points.");
        if (parse.GetValue(images) < 1)
            throw CloudCliException.InvalidArguments("--calibration-images must be at least 1.");
        string calibrationFolder = parse.GetValue(calibration) ?? (trained ? Path.Combine(source.Dataset, "train") : null)
            ?? throw CloudCliException.InvalidArguments("--int8 needs --calibration DIR (images to calibrate on) when the package is not made --from-train.");
        string scored = parse.GetValue(data) ?? (trained ? source.Dataset : null)
            ?? throw CloudCliException.InvalidArguments("--int8 needs --int8-data DIR (held-out labelled images) when the package is not made --from-train.");
        return new Int8Request(methods[0], calibrationFolder, scored, parse.GetValue(images), parse.GetValue(budget));
    }

    /// <summary>Reads a private key; a public-only PEM is an argument error.</summary>
    internal static SigningKey LoadPrivateKey(string path)
    {
        if (!File.Exists(path))
            throw CloudCliException.InvalidArguments($"Key file '{path}' does not exist.");
        var key = SigningKey.FromPem(File.ReadAllText(path));
        if (!key.HasPrivateKey)
        {
            key.Dispose();
            throw CloudCliException.InvalidArguments($"'{path}' is a public key; signing needs the private one (<name>.key.pem).");
        }
        return key;
    }

    private static List<string> Labels(string[]? classes, string? labelsFrom)
    {
        var names = (classes ?? []).SelectMany(c => c.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (names.Count > 0 && labelsFrom is not null)
            throw CloudCliException.InvalidArguments("Give either --classes or --labels-from, not both.");
        if (labelsFrom is not null)
        {
            if (labelsFrom.Equals("fashion-mnist", StringComparison.OrdinalIgnoreCase))
                return [.. FashionMnist.ClassNames];
            if (!Directory.Exists(labelsFrom))
                throw CloudCliException.InvalidArguments($"--labels-from '{labelsFrom}' is not a folder.");
            names = [.. Directory.GetDirectories(labelsFrom).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];
            if (names.Count == 0)
                throw CloudCliException.InvalidArguments($"--labels-from '{labelsFrom}' has no class sub-folders.");
        }
        if (names.Count < 2)
            throw CloudCliException.InvalidArguments("A package needs at least two class names: --classes a b … or --labels-from FOLDER.");
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
            throw CloudCliException.InvalidArguments("Class names must be distinct.");
        return names;
    }
}
