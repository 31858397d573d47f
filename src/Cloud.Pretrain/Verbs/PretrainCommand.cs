using System.CommandLine;
using System.Text.Json;
using EdgeTL.Runtime.Data;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Experiments;
using EdgeTL.Trainer.Training;
using static TorchSharp.torch;

namespace EdgeTL.Cloud;

/// <summary><c>pretrain</c>: train a zoo backbone from scratch on a class subset and write a checkpoint.</summary>
internal static class PretrainCommand
{
    public static Command Create()
    {
        var arch = CommonOptions.Architecture();
        var classes = CommonOptions.Classes("--classes", "0-4");
        var size = CommonOptions.InputSize();
        var epochs = CommonOptions.PretrainEpochs("--epochs");
        var batch = new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "Learning rate (AdamW, cosine schedule).", DefaultValueFactory = _ => 2e-3 };
        var output = CommonOptions.Checkpoint("Checkpoint file to write.");
        var data = CommonOptions.Data();
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var seed = CommonOptions.Seed();
        var perClass = new Option<int>("--per-class") { Description = "Training images per class (0 = all): a quick run for tests and smoke checks.", DefaultValueFactory = _ => 0 };
        var command = new Command("pretrain", "Pretrain a backbone on a class subset of the bundled Fashion-MNIST, write a checkpoint and print its metrics.")
        {
            arch, classes, size, epochs, batch, lr, output, data, json, threads, seed, perClass,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(ct =>
        {
            set_num_threads(parse.GetValue(threads));
            bool asJson = parse.GetValue(json);
            var options = new PretrainOptions
            {
                Architecture = parse.GetValue(arch)!,
                Classes = ClassList.Parse(parse.GetValue(classes)!),
                InputSize = parse.GetValue(size),
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                Seed = parse.GetValue(seed),
                CheckpointPath = parse.GetValue(output),
            };
            BackboneZoo.EnsureKnown(options.Architecture);
            var train = FashionMnist.LoadTrain(parse.GetValue(data));
            if (parse.GetValue(perClass) is > 0 and var n)
                train = train.SamplePerClass(n, options.Seed);
            var test = FashionMnist.LoadTest(parse.GetValue(data));
            if (!asJson)
                Console.WriteLine($"Pretraining {options.Architecture} at {options.InputSize}×{options.InputSize} on classes [{string.Join(",", options.Classes)}] for {options.Epochs} epochs…");
            var progress = asJson ? null : new SyncProgress<EpochMetrics>(m => Console.WriteLine(Format(m)));
            var (model, result) = SourcePretraining.Run(train, test, options, progress, ct);
            model.Dispose();
            if (asJson)
            {
                var summary = new PretrainSummary(options.Architecture, options.Classes, result.Test.Accuracy, result.Test.PerClassAccuracy,
                    result.Training.BestEpoch, result.Training.Seconds, result.Training.CheckpointPath, result.Training.Epochs);
                Console.WriteLine(JsonSerializer.Serialize(summary, CliJson.Default.PretrainSummary));
            }
            else
            {
                Console.WriteLine($"Test accuracy on held-out source images: {result.Test.Accuracy:P1} (best epoch {result.Training.BestEpoch}, {result.Training.Seconds:F0} s)");
                for (int c = 0; c < result.ClassNames.Count; c++)
                    Console.WriteLine($"  {result.ClassNames[c],-12} {result.Test.PerClassAccuracy[c]:P1}");
                Console.WriteLine($"Checkpoint: {result.Training.CheckpointPath}");
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    internal static string Format(EpochMetrics m)
    {
        var line = FormattableString.Invariant($"epoch {m.Epoch,3}  train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P1}");
        if (m.ValidationLoss is { } vl)
            line += FormattableString.Invariant($"  val loss {vl:F4} acc {m.ValidationAccuracy:P1}");
        if (m.TargetLoss is { } tl)
            line += FormattableString.Invariant($"  target loss {tl:F4} acc {m.TargetAccuracy:P1}");
        return line + FormattableString.Invariant($"  [{string.Join(",", m.TrainableGroups)}]  {m.Seconds:F1}s");
    }
}
