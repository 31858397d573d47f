using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Meta;
using EdgeTL.Trainer.Models;
using static TorchSharp.torch;

using EdgeTL.Trainer.Training;

namespace EdgeTL.Cloud;

/// <summary>
/// <c>meta-pretrain</c>: meta-learn a head initialization (ANIL, MAML or first-order MAML) on the
/// pretrained backbone's features of the bundled Fashion-MNIST source classes, for cold start on
/// devices (<c>package --head-init</c>).
/// </summary>
internal static class MetaPretrainCommand
{
    public static Command Create()
    {
        var arch = CommonOptions.Architecture();
        var weights = new Option<string>("--weights") { Description = "The pretrained backbone: a pretrain checkpoint, or a .pt / .safetensors state dict.", Required = true };
        var classes = CommonOptions.Classes("--classes", "0-4");
        var algorithm = new Option<string>("--algorithm") { Description = "anil, maml or fomaml.", DefaultValueFactory = _ => "anil" };
        var ways = new Option<int>("--ways") { Description = "Classes per episode.", DefaultValueFactory = _ => 5 };
        var shots = new Option<int>("--shots") { Description = "Support samples per class.", DefaultValueFactory = _ => 5 };
        var steps = new Option<int>("--steps") { Description = "Inner SGD steps.", DefaultValueFactory = _ => 10 };
        var innerLr = new Option<double>("--inner-lr") { Description = "Inner learning rate (initial; the per-step rates are learned).", DefaultValueFactory = _ => 0.003 };
        var outerLr = new Option<double>("--outer-lr") { Description = "Outer (Adam) learning rate.", DefaultValueFactory = _ => 1e-3 };
        var iterations = new Option<int>("--iterations") { Description = "Outer iterations.", DefaultValueFactory = _ => 300 };
        var perClass = new Option<int>("--per-class") { Description = "Source images per class to extract features from (0 = all).", DefaultValueFactory = _ => 0 };
        var size = CommonOptions.InputSize();
        var output = new Option<string>("--out") { Description = "Head initialization to write (safetensors).", DefaultValueFactory = _ => "head.init.safetensors" };
        var data = CommonOptions.Data();
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var seed = CommonOptions.Seed();
        var command = new Command("meta-pretrain", "Meta-learn a seed head (ANIL / MAML / FOMAML) on the pretrained backbone's features of the source classes; write head.init.safetensors.")
        {
            arch, weights, classes, algorithm, ways, shots, steps, innerLr, outerLr, iterations, perClass, size, output, data, json, threads, seed,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, ct =>
        {
            set_num_threads(parse.GetValue(threads));
            bool asJson = parse.GetValue(json);
            var console = new CliConsole(parse, asJson);
            string architecture = parse.GetValue(arch)!;
            BackboneZoo.EnsureKnown(architecture);
            int[] sourceClasses = ClassList.Parse(parse.GetValue(classes)!);
            var options = new MetaLearningOptions
            {
                Algorithm = ParseAlgorithm(parse.GetValue(algorithm)!),
                Ways = parse.GetValue(ways),
                Shots = parse.GetValue(shots),
                InnerSteps = parse.GetValue(steps),
                InnerLearningRate = parse.GetValue(innerLr),
                OuterLearningRate = parse.GetValue(outerLr),
                Iterations = parse.GetValue(iterations),
                Seed = parse.GetValue(seed),
            };
            options.Validate();
            if (options.Ways > sourceClasses.Length)
                throw CloudCliException.InvalidArguments($"--ways {options.Ways} needs at least that many source classes; --classes has {sourceClasses.Length}.");
            var source = FashionMnist.LoadTrain(parse.GetValue(data)).SelectClasses(sourceClasses);
            if (parse.GetValue(perClass) is > 0 and var n)
                source = source.SamplePerClass(n, options.Seed);

            using var scope = NewDisposeScope();
            using var model = TransferModel.Create(architecture, sourceClasses.Length, seed: 0);
            ModelWeights.Load(model, parse.GetValue(weights)!);
            var pipeline = new ImagePipeline(new ImagePipelineOptions { InputSize = parse.GetValue(size) });
            using var features = console.Status($"Extracting {architecture} features of {source.Count} source images", _ =>
                FeatureExtraction.Extract(model.Backbone, ImageTensorBatches.ForEvaluation(source, pipeline), source.ClassCount));
            int[] labels = features.Labels.data<long>().Select(l => (int)l).ToArray();
            ct.ThrowIfCancellationRequested();

            double first = double.NaN, last = double.NaN;
            int every = Math.Max(1, options.Iterations / 10);
            using var init = console.Status($"Meta-training ({options.Algorithm}, {options.Ways}-way {options.Shots}-shot, {options.InnerSteps} inner steps, {options.Iterations} iterations)", status =>
                MetaLearner.Train(features.Features, labels, [.. Enumerable.Range(0, source.ClassCount)], options,
                    new SyncProgress<(int Iteration, double QueryLoss)>(p =>
                    {
                        if (double.IsNaN(first))
                            first = p.QueryLoss;
                        last = p.QueryLoss;
                        if (p.Iteration % every == 0 || p.Iteration == options.Iterations - 1)
                            status(string.Create(CultureInfo.InvariantCulture, $"iteration {p.Iteration + 1}/{options.Iterations}: adapted query loss {p.QueryLoss:F4}"));
                    }), ct));
            string outPath = parse.GetValue(output)!;
            string? parent = Path.GetDirectoryName(Path.GetFullPath(outPath));
            if (parent is not null)
                Directory.CreateDirectory(parent);
            init.Save(outPath);
            var summary = new MetaPretrainSummary(architecture, sourceClasses, options.Algorithm.ToString(), options.Ways, options.Shots, options.InnerSteps,
                options.Iterations, features.Count, init.FeatureDim, first, last, Path.GetFullPath(outPath));
            if (asJson)
                console.Out.WriteLine(JsonSerializer.Serialize(summary, CliJson.Default.MetaPretrainSummary));
            else
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Wrote {summary.Output}: {summary.Algorithm} head for {summary.FeatureDim}-wide features; adapted query loss {first:F4} → {last:F4}"));
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static MetaAlgorithm ParseAlgorithm(string text) => text.ToUpperInvariant() switch
    {
        "ANIL" => MetaAlgorithm.Anil,
        "MAML" => MetaAlgorithm.Maml,
        "FOMAML" or "FO-MAML" or "FIRSTORDERMAML" => MetaAlgorithm.FirstOrderMaml,
        _ => throw CloudCliException.InvalidArguments($"--algorithm must be anil, maml or fomaml, not '{text}'."),
    };
}
