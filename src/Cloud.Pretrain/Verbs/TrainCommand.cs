using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Experiments;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using EdgeTL.Trainer.Visualization;
using static TorchSharp.torch;

namespace EdgeTL.Cloud;

/// <summary>
/// <c>train</c>: the seed's transfer recipe on a user's own images. <c>--data</c> is an image folder
/// (<c>&lt;class&gt;/&lt;image&gt;</c>, or <c>train/</c> and <c>val/</c>) or a Fashion-MNIST IDX folder; the model
/// starts from a zoo architecture, random or with <c>--weights</c> (an <c>import</c>ed torchvision state
/// dict, or a <c>pretrain</c> checkpoint). Head-only on cached features, then progressive unfreezing;
/// writes the model, <c>report.json</c>, the curves and the confusion matrix to <c>--out</c>.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Image folder (<class>/<image>, or train/ and val/), or a folder of Fashion-MNIST IDX files.", Required = true };
        var arch = CommonOptions.Architecture();
        var weights = new Option<string?>("--weights") { Description = "Backbone weights to start from: a torchvision .pt/.safetensors (e.g. from import) or a pretrain checkpoint; absent: random." };
        var from = new Option<string?>("--from") { Description = "Start from an import output folder (any imported ONNX graph or PyTorch backbone), with the pixels it expects." };
        var size = new Option<int>("--size") { Description = "Input side in pixels (default: 224 with --weights, as ImageNet backbones were trained; else 64)." };
        var headEpochs = new Option<int>("--head-epochs") { Description = "Head-only epochs on cached features.", DefaultValueFactory = _ => new FolderTrainingOptions().HeadEpochs };
        var epochs = new Option<int>("--epochs") { Description = "Progressive fine-tune epochs (0: head-only).", DefaultValueFactory = _ => new FolderTrainingOptions().ProgressiveEpochs };
        var lr = new Option<double>("--lr") { Description = "The head's rate in the progressive fine-tune; stage4 and stage3 train at a tenth of it.", DefaultValueFactory = _ => new FolderTrainingOptions().ProgressiveLearningRate };
        var headLr = new Option<double>("--head-lr") { Description = "Rate of the head-only fit.", DefaultValueFactory = _ => new FolderTrainingOptions().HeadLearningRate };
        var batch = new Option<int>("--batch-size") { Description = "Images per batch in the progressive fine-tune.", DefaultValueFactory = _ => new FolderTrainingOptions().BatchSize };
        var valFraction = new Option<double>("--val-fraction") { Description = "Share of each class held out when the folder has no val/.", DefaultValueFactory = _ => 0.2 };
        var output = new Option<string>("--out") { Description = "Folder for model.bin, report.json, curves.png and confusion.png.", DefaultValueFactory = _ => Path.Combine("out", "train") };
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var seed = CommonOptions.Seed();
        var baseline = new Option<string?>("--baseline")
        {
            Description = "Also fit the head on a randomly initialized frozen backbone and report transfer gain (TG) against it: of the model's own zoo architecture, or of the one named (an imported graph has none: --baseline resnet18).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var resume = new Option<bool>("--resume")
        {
            Description = "Continue a run that was interrupted (Ctrl+C): from its checkpoint in <out>.partial, after its last finished epoch. The other options must be the run's own.",
        };
        var command = new Command("train", "Train on your own images: head-only on cached features of the backbone, then progressive unfreezing (stage4, then stage3).")
        {
            data, arch, weights, size, headEpochs, epochs, lr, headLr, batch, valFraction, output, json, threads, seed, from, baseline, resume,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, ct =>
        {
            set_num_threads(parse.GetValue(threads));
            var console = new CliConsole(parse, parse.GetValue(json));
            string dataPath = parse.GetValue(data)!, architecture = parse.GetValue(arch)!, outDir = parse.GetValue(output)!;
            string? weightsPath = parse.GetValue(weights);
            string? importFolder = parse.GetValue(from);
            var imported = importFolder is null ? null : ImportFolder.Read(importFolder);
            if (imported is not null && (parse.GetResult(arch) is { Implicit: false } || weightsPath is not null))
                throw CloudCliException.InvalidArguments("--from takes the architecture and weights from the import folder: --arch and --weights do not apply.");
            if (imported is not null)
            {
                architecture = imported.Architecture;
                if (imported.Format != "onnx")
                    weightsPath = imported.WeightsPath;
            }
            else
                BackboneZoo.EnsureKnown(architecture);
            if (weightsPath is not null && !File.Exists(weightsPath))
                throw new CloudCliException(ExitCodes.DataError, $"Weights file '{weightsPath}' does not exist.");
            int side = imported?.FixedInputSize ?? (parse.GetValue(size) is > 0 and var s ? s : weightsPath is null && imported is null ? 64 : 224);
            if (side < BackboneZoo.MinInputSize)
                throw new CloudCliException(ExitCodes.InvalidArguments, $"--size {side} is below the smallest input the backbones take ({BackboneZoo.MinInputSize}).");
            var options = new FolderTrainingOptions
            {
                HeadEpochs = parse.GetValue(headEpochs),
                HeadLearningRate = parse.GetValue(headLr),
                ProgressiveEpochs = parse.GetValue(epochs),
                ProgressiveLearningRate = parse.GetValue(lr),
                BatchSize = parse.GetValue(batch),
                Seed = parse.GetValue(seed),
            };
            string? baselineArchitecture = parse.GetResult(baseline) is null ? null
                : parse.GetValue(baseline) ?? (BackboneZoo.Architectures.Contains(architecture) ? architecture
                    : throw CloudCliException.InvalidArguments($"--baseline: '{architecture}' is an imported graph, not a zoo architecture; name the architecture to compare with, e.g. --baseline resnet18."));
            if (baselineArchitecture is not null)
                BackboneZoo.EnsureKnown(baselineArchitecture);
            if (options.HeadEpochs < 1 || options.ProgressiveEpochs < 0 || (options.ProgressiveEpochs is > 0 and < BackboneModes.MinimumEpochs) || options.BatchSize < 1)
                throw new CloudCliException(ExitCodes.InvalidArguments, $"--head-epochs must be ≥ 1, --epochs 0 or ≥ {BackboneModes.MinimumEpochs}, --batch-size ≥ 1.");

            // The resumable checkpoint lives beside the output until the run succeeds; the run's settings go with it.
            string partial = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outDir)) + ".partial";
            string settings = Settings(dataPath, architecture, weightsPath, importFolder, side, parse.GetValue(valFraction), options);
            bool resuming = parse.GetValue(resume);
            PrepareCheckpoint(partial, settings, resuming, console);
            options = options with { CheckpointFolder = partial, Resume = resuming };

            FolderTrainingReport report;
            string text;
            double? baselineAccuracy = null;
            try
            {
                var (split, splitBy, skipped) = Load(dataPath, side, parse.GetValue(valFraction), options.Seed);
                console.Line($"data: {dataPath}: {split.Train.Count} training and {split.Validation.Count} validation images ({splitBy}), {split.Train.ClassCount} classes: {string.Join(", ", split.Train.ClassNames)}");
                foreach (var file in skipped)
                    console.Line($"  skipped {file}");
                string pixels = imported?.Pixels ?? ImportFolder.ImageNetPixels;
                var pipeline = new ImagePipeline(new ImagePipelineOptions { InputSize = side, Normalization = ImportFolder.Normalization(pixels) });
                string start = imported is { Format: "onnx" } ? $"the imported graph {importFolder}" : weightsPath is null ? "random initialization" : $"weights {weightsPath}";
                console.Line($"model: {architecture}, {start}, {side}×{side} px, {(pixels == ImportFolder.RawPixels ? "raw 0–255 pixels (the graph normalizes them)" : "ImageNet mean/std normalization")}");
                console.Line(Recipe(options));

                manual_seed(options.Seed);
                using var model = imported is { Format: "onnx" }
                    ? new TransferModel(ImportFolder.Backbone(importFolder!), split.Train.ClassCount)
                    : TransferModel.Create(architecture, split.Train.ClassCount, seed: options.Seed);
                if (weightsPath is not null)
                    ModelWeights.Load(model, weightsPath);
                try
                {
                    // Steps of the bar: the head-only fit, then each progressive epoch (a resumed run starts further on).
                    int done = 0;
                    report = console.Progress($"train {architecture}", options.ProgressiveEpochs + 1, update => FolderTraining.Run(model, split.Train, split.Validation,
                        pipeline, options, new SyncProgress<string>(line => update(done = StepsDone(line, done), line)), ct));
                }
                catch (OperationCanceledException) when (File.Exists(Path.Combine(partial, FolderTraining.StateFile)))
                {
                    parse.InvocationConfiguration.Error.WriteLine($"interrupted: the checkpoint is in {partial}; the same command with --resume continues after its last finished epoch.");
                    throw;
                }
                if (baselineArchitecture is not null)
                {
                    // Transfer gain: the same head-only fit on a frozen backbone that learned nothing (torchvision's
                    // initialization, ImageNet-normalized pixels), scored on the same validation images.
                    console.Line($"baseline: head-only on a randomly initialized frozen {baselineArchitecture}");
                    manual_seed(options.Seed);
                    using var random = TransferModel.Create(baselineArchitecture, split.Train.ClassCount, seed: options.Seed);
                    var randomPipeline = new ImagePipeline(new ImagePipelineOptions { InputSize = side, Normalization = ImportFolder.Normalization(ImportFolder.ImageNetPixels) });
                    baselineAccuracy = FolderTraining.Run(random, split.Train, split.Validation, randomPipeline, options with { ProgressiveEpochs = 0, CheckpointFolder = null, Resume = false }, null, ct).HeadOnlyAccuracy;
                }

                string checkpoint = Path.Combine(outDir, "model.bin");
                var summary = TrainSummary.Create(report, dataPath, splitBy, skipped, architecture, weightsPath, side, checkpoint) with
                {
                    ImportFolder = importFolder is null ? null : Path.GetFullPath(importFolder),
                    Pixels = pixels,
                    BaselineArchitecture = baselineArchitecture,
                    BaselineAccuracy = baselineAccuracy,
                    TransferGain = report.Final.Accuracy - baselineAccuracy,
                };
                text = JsonSerializer.Serialize(summary, CliJson.Default.TrainSummary);
                StagedOutput.Write(outDir, staging =>
                {
                    Checkpoint.Save(model, Path.Combine(staging, "model.bin"));
                    File.WriteAllText(Path.Combine(staging, "report.json"), text);
                    WriteCharts(report, staging);
                    WriteGolden(split.Validation, Path.Combine(staging, "golden"));
                    return 0;
                });
            }
            catch (Exception e) when (!resuming && (e is not OperationCanceledException || !File.Exists(Path.Combine(partial, FolderTraining.StateFile))))
            {
                Directory.Delete(partial, recursive: true);   // nothing to resume: a failed run leaves nothing behind
                throw;
            }
            Directory.Delete(partial, recursive: true);
            if (parse.GetValue(json))
                console.Out.WriteLine(text);
            else
            {
                if (baselineAccuracy is { } b)
                    console.Line(FormattableString.Invariant($"transfer gain: {100 * (report.Final.Accuracy - b):+0.0;-0.0} points ({report.Final.Accuracy:P1} against {b:P1} head-only on a randomly initialized frozen {baselineArchitecture}, n = {report.ValidationCount})"));
                Print(console, report, outDir);
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private const string SettingsFile = "settings.txt";

    /// <summary>Steps done after <paramref name="line"/>: 1 once head-only is done, 1 + k after progressive epoch k.</summary>
    private static int StepsDone(string line, int before)
    {
        if (line.StartsWith("head-only: ", StringComparison.Ordinal) && line.Contains(" on ", StringComparison.Ordinal) && !line.Contains("features", StringComparison.Ordinal))
            return 1;
        if (line.StartsWith("resuming: ", StringComparison.Ordinal) || line.StartsWith("progressive epoch ", StringComparison.Ordinal))
        {
            string digits = line.StartsWith("resuming: ", StringComparison.Ordinal) ? line[(line.IndexOf("), ", StringComparison.Ordinal) + 3)..] : line["progressive epoch ".Length..];
            return int.TryParse(digits.AsSpan(0, digits.IndexOfAny([' ', '/'])), NumberStyles.Integer, CultureInfo.InvariantCulture, out int k) ? 1 + k : before;
        }
        return before;
    }

    /// <summary>What makes two runs the same run: a resumed run must match the interrupted one line for line.</summary>
    private static string Settings(string data, string architecture, string? weights, string? importFolder, int side, double valFraction, FolderTrainingOptions o) =>
        string.Join('\n',
            $"data {Path.GetFullPath(data)}",
            $"architecture {architecture}",
            $"weights {(weights is null ? "none" : Path.GetFullPath(weights))}",
            $"from {(importFolder is null ? "none" : Path.GetFullPath(importFolder))}",
            FormattableString.Invariant($"size {side}"),
            FormattableString.Invariant($"val-fraction {valFraction}"),
            FormattableString.Invariant($"head-epochs {o.HeadEpochs}"),
            FormattableString.Invariant($"head-lr {o.HeadLearningRate}"),
            FormattableString.Invariant($"epochs {o.ProgressiveEpochs}"),
            FormattableString.Invariant($"lr {o.ProgressiveLearningRate}"),
            FormattableString.Invariant($"batch-size {o.BatchSize}"),
            FormattableString.Invariant($"seed {o.Seed}")) + "\n";

    /// <summary>
    /// Starting: a checkpoint left by an interrupted run is removed (said so), and the settings are written.
    /// Resuming: the checkpoint must exist and have been made with the same settings.
    /// </summary>
    private static void PrepareCheckpoint(string partial, string settings, bool resuming, CliConsole console)
    {
        string file = Path.Combine(partial, SettingsFile);
        if (resuming)
        {
            if (!File.Exists(Path.Combine(partial, FolderTraining.StateFile)) || !File.Exists(file))
                throw new CloudCliException(ExitCodes.DataError, $"--resume: there is no checkpoint of an interrupted run at '{partial}' (a run makes one once its head-only fit is done).");
            var before = File.ReadAllLines(file);
            var now = settings.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var changed = now.Where((line, i) => i >= before.Length || before[i] != line).ToList();
            if (changed.Count > 0 || before.Length != now.Length)
                throw CloudCliException.InvalidArguments($"--resume: the interrupted run was made with other settings; now {string.Join(", ", changed)} (the checkpoint's: {file}).");
            return;
        }
        if (Directory.Exists(partial))
        {
            console.Line($"starting over: removing the checkpoint of an interrupted run at {partial} (--resume continues it instead)");
            Directory.Delete(partial, recursive: true);
        }
        Directory.CreateDirectory(partial);
        File.WriteAllText(file, settings);
    }

    /// <summary>The run's defaults, said before it starts.</summary>
    private static string Recipe(FolderTrainingOptions o)
    {
        string head = FormattableString.Invariant($"recipe: head-only {o.HeadEpochs} epochs at lr {o.HeadLearningRate:G3} on cached features");
        if (o.ProgressiveEpochs == 0)
            return head + FormattableString.Invariant($"; no progressive fine-tune; seed {o.Seed}");
        string schedule = string.Join(", ", BackboneModes.Schedule("progressive", o.ProgressiveEpochs).Steps.Select(s => FormattableString.Invariant($"{string.Join('+', s.Groups)} from epoch {s.Epoch}")));
        return head + FormattableString.Invariant(
            $"; then progressive {o.ProgressiveEpochs} epochs (head alone, {schedule}), head at lr {o.ProgressiveLearningRate:G3}, stages at {o.ProgressiveLearningRate / 10:G3}, BatchNorm statistics frozen, batch {o.BatchSize}, random resized crop (0.7–1) + flip + brightness/contrast 0.2, precision auto; seed {o.Seed}");
    }

    private static (ImageFolderSplit Split, string SplitBy, IReadOnlyList<string> Skipped) Load(string path, int side, double valFraction, int seed)
    {
        if (!Directory.Exists(path))
            throw new CloudCliException(ExitCodes.DataError, $"Data folder '{path}' does not exist.");
        if (Directory.EnumerateFiles(path, "*-idx?-ubyte*").Any())
        {
            var idx = new ImageFolderSplit(FashionMnist.LoadTrain(path), FashionMnist.LoadTest(path), [], "IDX train and test files");
            return (idx, idx.SplitBy, []);
        }
        var split = ImageFolderDataset.Load(path, side, valFraction, seed);
        return (split, split.SplitBy, split.Skipped);
    }

    /// <summary>One validation image per class as PNG under <c>golden/&lt;class&gt;/</c>: what <c>package --from-train</c> ships as the device's golden set.</summary>
    private static void WriteGolden(LabeledImageSet validation, string folder)
    {
        for (int c = 0; c < validation.ClassCount; c++)
        {
            int index = Array.IndexOf(validation.Labels, c);
            if (index < 0)
                continue;
            string classFolder = Path.Combine(folder, validation.ClassNames[c]);
            Directory.CreateDirectory(classFolder);
            var info = new SkiaSharp.SKImageInfo(validation.Width, validation.Height, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque);
            using var bitmap = new SkiaSharp.SKBitmap(info);
            var image = validation.Image(index);
            int channels = validation.Channels;
            var rgba = new byte[validation.Width * validation.Height * 4];
            for (int p = 0; p < validation.Width * validation.Height; p++)
            {
                rgba[(4 * p) + 0] = image[(channels * p) + 0];
                rgba[(4 * p) + 1] = image[(channels * p) + (channels == 3 ? 1 : 0)];
                rgba[(4 * p) + 2] = image[(channels * p) + (channels == 3 ? 2 : 0)];
                rgba[(4 * p) + 3] = 255;
            }
            System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
            using var png = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(classFolder, "0.png"), png.ToArray());
        }
    }

    private static void WriteCharts(FolderTrainingReport report, string outDir)
    {
        var curve = report.HeadCurve.Select(e => (e.Epoch + 1, e.TrainLoss, e.TargetAccuracy ?? e.TrainAccuracy))
            .Concat(report.ProgressiveCurve.Select(e => (report.HeadCurve.Count + e.Epoch + 1, e.TrainLoss, e.TargetAccuracy ?? e.TrainAccuracy)))
            .ToList();
        Charts.TrainingCurve(Path.Combine(outDir, "curves.png"), curve, "Head-only, then progressive: train loss and validation accuracy");
        Charts.ConfusionMatrix(Path.Combine(outDir, "confusion.png"), report.Final.Confusion, report.ClassNames);
    }

    private static void Print(CliConsole console, FolderTrainingReport r, string outDir)
    {
        console.Line($"validation accuracy ({r.ValidationCount} images, never trained on): head-only {r.HeadOnlyAccuracy:P1}" +
            (r.ProgressiveAccuracy is { } p ? $", progressive {p:P1} ({100 * (p - r.HeadOnlyAccuracy):+0.0;-0.0} points)" : "") + $"; kept: {r.Kept}");
        for (int c = 0; c < r.ClassNames.Count; c++)
            console.Line($"  {r.ClassNames[c],-16} {r.Final.PerClassAccuracy[c]:P1}");
        console.Line(string.Create(CultureInfo.InvariantCulture, $"MMD² train–validation {r.Mmd2TrainValidation:F4}, class separation (CID) on validation {r.CidValidation:F3}"));
        console.Line($"wrote {Path.Combine(outDir, "model.bin")}, report.json, curves.png, confusion.png ({r.Seconds:F0} s)");
    }
}
