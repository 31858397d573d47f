using System.CommandLine;
using System.Text.Json;
using EdgeTL.Runtime.Data;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Experiments;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using static TorchSharp.torch;

namespace EdgeTL.Cloud;

/// <summary>
/// <c>transfer</c>: the transfer-gain protocol on the bundled data. Pretrains on the source
/// classes (or loads <c>--checkpoint</c>), then learns the target classes from a few shots with
/// and without the pretrained backbone, and prints TG against both baselines.
/// </summary>
internal static class TransferCommand
{
    public static Command Create()
    {
        var arch = CommonOptions.Architecture();
        var source = CommonOptions.Classes("--source-classes", "0-4");
        var target = CommonOptions.Classes("--target-classes", "5-9");
        var shots = new Option<int>("--shots") { Description = "Labelled target images per class.", DefaultValueFactory = _ => 20 };
        var seeds = new Option<int>("--seeds") { Description = "Number of seeds (0, 1, …) to average.", DefaultValueFactory = _ => 3 };
        var size = CommonOptions.InputSize();
        var epochs = CommonOptions.PretrainEpochs("--pretrain-epochs");
        var checkpoint = CommonOptions.Checkpoint("Pretrained model to reuse; written after pretraining when missing.");
        var data = CommonOptions.Data();
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var command = new Command("transfer", "Measure transfer gain: pretrain on source classes, few-shot target classes, against a random frozen backbone and training from scratch.")
        {
            arch, source, target, shots, seeds, size, epochs, checkpoint, data, json, threads,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(ct =>
        {
            set_num_threads(parse.GetValue(threads));
            bool asJson = parse.GetValue(json);
            void Say(string line)
            {
                if (!asJson)
                    Console.WriteLine(line);
            }
            var pretrain = new PretrainOptions
            {
                Architecture = parse.GetValue(arch)!,
                Classes = ClassList.Parse(parse.GetValue(source)!),
                InputSize = parse.GetValue(size),
                Epochs = parse.GetValue(epochs),
                CheckpointPath = parse.GetValue(checkpoint),
            };
            var options = new TransferExperimentOptions
            {
                Pretrain = pretrain,
                TargetClasses = ClassList.Parse(parse.GetValue(target)!),
                ShotsPerClass = parse.GetValue(shots),
                Seeds = Enumerable.Range(0, parse.GetValue(seeds)).ToArray(),
            };
            BackboneZoo.EnsureKnown(pretrain.Architecture);
            var train = FashionMnist.LoadTrain(parse.GetValue(data));
            var test = FashionMnist.LoadTest(parse.GetValue(data));
            var (model, sourceAccuracy) = LoadOrPretrain(train, test, pretrain, Say, ct);
            using (model)
            {
                var report = TransferExperiment.Run(model, sourceAccuracy, train, test, options, new SyncProgress<string>(Say), ct);
                if (asJson)
                    Console.WriteLine(JsonSerializer.Serialize(report, CliJson.Default.TransferReport));
                else
                    PrintReport(report);
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static (TransferModel Model, double SourceAccuracy) LoadOrPretrain(LabeledImageSet train, LabeledImageSet test, PretrainOptions options, Action<string> say, CancellationToken ct)
    {
        var path = options.CheckpointPath!;
        if (File.Exists(path))
        {
            var model = TransferModel.Create(options.Architecture, options.Classes.Count);
            Checkpoint.Load(model, path);
            double accuracy = SourcePretraining.EvaluateOnSource(model, test, options).Accuracy;
            say($"Reusing pretrained checkpoint {path} (source test accuracy {accuracy:P1}).");
            return (model, accuracy);
        }
        say($"Pretraining {options.Architecture} on source classes [{string.Join(",", options.Classes)}]…");
        var (trained, result) = SourcePretraining.Run(train, test, options, new SyncProgress<EpochMetrics>(m => say(PretrainCommand.Format(m))), ct);
        say($"Source test accuracy {result.Test.Accuracy:P1}; checkpoint {path}");
        return (trained, result.Test.Accuracy);
    }

    private static void PrintReport(TransferReport r)
    {
        Console.WriteLine();
        Console.WriteLine($"Target classes [{string.Join(",", r.Options.TargetClasses)}], {r.Options.ShotsPerClass} labelled images per class, {r.TargetTestCount} test images; source test accuracy {r.SourceTestAccuracy:P1}.");
        Console.WriteLine($"{"seed",4}  {"pretrained head-only",20}  {"random frozen",13}  {"scratch",8}  {"progressive",11}  {"TG vs random",12}  {"TG vs scratch",13}");
        foreach (var s in r.Seeds)
            Console.WriteLine($"{s.Seed,4}  {s.PretrainedHeadOnly,20:P1}  {s.RandomFrozenHeadOnly,13:P1}  {s.ScratchFullNetwork,8:P1}  {s.PretrainedProgressive,11:P1}  {100 * s.GainVsRandomFrozen,+12:+0.0;-0.0} pt  {100 * s.GainVsScratch,+10:+0.0;-0.0} pt");
        Console.WriteLine($"{"mean",4}  {r.MeanPretrainedHeadOnly,20:P1}  {r.MeanRandomFrozenHeadOnly,13:P1}  {r.MeanScratchFullNetwork,8:P1}  {r.MeanPretrainedProgressive,11:P1}  {100 * r.MeanGainVsRandomFrozen,+12:+0.0;-0.0} pt  {100 * r.MeanGainVsScratch,+10:+0.0;-0.0} pt");
        if (r.MeanGainVsRandomFrozen < 0)
            Console.WriteLine("Negative transfer: the pretrained backbone is worse than a random one for this target. Reported, not hidden.");
    }
}
