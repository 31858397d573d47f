using System.Globalization;
using EdgeTL.Agent.Learning;
using EdgeTL.Runtime.Data;
using EdgeTL.Trainer.Adaptation;
using EdgeTL.Trainer.Experiments;
using EdgeTL.Trainer.Models;
using static TorchSharp.torch;

namespace EdgeTL.Bench;

/// <summary>
/// Recovery from input shifts, every adaptation method side by side on the bundled Fashion-MNIST:
/// resnet18 at 32 px pretrained on classes 0–4, new classes 5–9 with inverted images and with noise
/// plus low contrast; per method the mean held-out accuracy on shifted and clean test images over
/// the seeds, and how often the promotion guard (agent defaults: n ≥ 20, tolerance 2 points, and it
/// must help) would promote it over the source-only head on the shifted holdout (20 images; <c>--holdout-per-class</c>), and for a method that
/// reads no target label (mmd, dann, bn, bn-all, tent), as the agent judges one, also on the 50 labelled shifted training images it never saw. Then where each shift was
/// localized, and where a class shift (new classes, clean images) is.
/// </summary>
internal static class ShiftRecoveryBenchmark
{
    public static int Run(string[] args)
    {
        int seeds = IntOption(args, "--seeds", 3);
        if (seeds < 1)
        {
            Console.Error.WriteLine($"--seeds is how many seeds to run (0, 1, …): at least 1, got {seeds}.");
            return 2;
        }
        int epochs = IntOption(args, "--pretrain-epochs", 3);
        int threads = IntOption(args, "--threads", 2);
        bool smoke = args.Contains("--smoke");
        int finetuneEpochs = IntOption(args, "--finetune-epochs", 30);   // the device's finetune default
        int holdoutPerClass = IntOption(args, "--holdout-per-class", 4);  // the guard's labelled shifted holdout: 4 × 5 classes = 20
        double finetuneRate = double.Parse(StringOption(args, "--finetune-lr") ?? "1e-3", System.Globalization.CultureInfo.InvariantCulture);
        ImageShift[] shifts = [ImageShift.Inverted, ImageShift.NoiseLowContrast];
        if (StringOption(args, "--shifts") is { } named)
        {
            var parsed = named.Split(',').Select(n => (Name: n, Shift: n.Equals("noise", StringComparison.OrdinalIgnoreCase) ? ImageShift.NoiseLowContrast
                : Enum.TryParse<ImageShift>(n, ignoreCase: true, out var shift) && Enum.IsDefined(shift) ? shift : (ImageShift?)null)).ToList();
            if (parsed.FirstOrDefault(p => p.Shift is null).Name is { } unknown)
            {
                Console.Error.WriteLine($"--shifts: '{unknown}' is not a shift; known: inverted, noise (noiselowcontrast).");
                return 2;
            }
            shifts = [.. parsed.Select(p => p.Shift!.Value)];
        }
        var methods = StringOption(args, "--methods")?.Split(',');
        var labelFreeGroups = StringOption(args, "--bn-groups")?.Split(',');   // null: as the agent chooses them (RenormalizationChoice)
        set_num_threads(threads);
        var train = FashionMnist.LoadTrain();
        var test = FashionMnist.LoadTest();
        var pretrain = new PretrainOptions { Epochs = smoke ? 1 : epochs };
        Console.WriteLine($"pretraining resnet18 on Fashion-MNIST classes 0–4, {pretrain.Epochs} epochs at {pretrain.InputSize} px, {threads} threads");
        var (model, result) = SourcePretraining.Run(smoke ? train.SamplePerClass(60, 0) : train, test, pretrain);
        using (model)
        {
            Console.WriteLine($"source test accuracy {result.Test.Accuracy:P1}");
            foreach (var shift in shifts)
            {
                var options = new ShiftExperimentOptions
                {
                    Shift = shift,
                    Pretrain = pretrain,
                    Seeds = [.. Enumerable.Range(0, smoke ? 1 : seeds)],
                    TestPerClass = smoke ? 10 : 100,
                    HeadEpochs = smoke ? 5 : 300,
                    FinetuneEpochs = smoke ? 3 : finetuneEpochs,
                    FinetuneLearningRate = finetuneRate,
                    HoldoutPerClass = holdoutPerClass,
                    AdaptationSteps = smoke ? 5 : 600,
                    TentSteps = smoke ? 2 : 20,
                    LabelFreeGroups = labelFreeGroups,
                    Methods = methods is null ? null : ["source-only", .. methods.Where(m => m != "source-only")],
                };
                var report = ShiftExperiment.Run(model, train, test, options, new Progress<string>(Console.WriteLine));
                Print(report);
            }
            ClassShift(model, test, pretrain);
        }
        return 0;
    }

    private static void Print(ShiftExperimentReport report)
    {
        var guard = new PromotionGuard(minHoldout: 20, tolerance: 0.02);
        Console.WriteLine();
        Console.WriteLine($"{report.Shift}: mean of {report.Seeds.Count} seed(s); {report.ShiftedTestCount} shifted and {report.CleanTestCount} clean held-out test images per seed");
        int holdout = report.Seeds[0].Methods[0].HoldoutCorrect.Length, labelled = report.Seeds[0].Methods[0].ShiftedTrainCorrect.Length;
        Console.WriteLine($"guard vs source-only: on the {holdout} shifted holdout images; the methods that read no target label (as adapt judges them) also on the {labelled} labelled shifted training images");
        Console.WriteLine($"{"method",-12} {"labels",6} {"shifted",8} {"clean",7}  guard");
        foreach (var method in report.Methods)
        {
            var decisions = report.Seeds.Select(s =>
            {
                var source = s.Methods.Single(m => m.Method == "source-only");
                var candidate = s.Methods.Single(m => m.Method == method);
                // A method that reads no target label is judged on every labelled shifted row, as the agent judges it; the others on the holdout.
                var serving = candidate.JudgedOnEveryUnseenLabel ? source.GuardCorrect : source.HoldoutCorrect;   // source-only reads no target label
                var decision = guard.Decide(candidate.GuardCorrect, serving);
                if (method != "source-only")
                    Console.WriteLine($"  seed {s.Seed} {method}: {decision.Reason}");
                // As the agent judges an adaptation: it must help on the holdout, not only be no worse.
                return decision with { Promoted = decision.Promoted && candidate.GuardCorrect.Count(c => c) > serving.Count(c => c) };
            }).ToList();
            bool labels = report.Seeds[0].Methods.Single(m => m.Method == method).UsesTargetLabels;
            string promoted = method == "source-only" ? "(serving)" :
                string.Create(CultureInfo.InvariantCulture, $"promoted {decisions.Count(d => d.Promoted)}/{decisions.Count}, bound {Math.Round(decisions.Average(d => d.LowerBound ?? double.NaN), 3) + 0.0:+0.000;-0.000;0.000}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{method,-12} {(labels ? "yes" : "no"),6} {report.MeanShifted(method),8:P1} {report.MeanClean(method),7:P1}  {promoted}"));
        }
        foreach (var seed in report.Seeds)
            Console.WriteLine($"seed {seed.Seed}: {seed.Localization.Describe()}");
    }

    /// <summary>Where the shift from the source classes to the new classes, both clean, is localized.</summary>
    private static void ClassShift(TransferModel model, LabeledImageSet test, PretrainOptions pretrain)
    {
        var pipeline = new Runtime.Preprocessing.ImagePipeline(new Runtime.Preprocessing.ImagePipelineOptions { InputSize = pretrain.InputSize });
        Tensor Images(LabeledImageSet set) => Trainer.Data.ImageTensorBatches.ForEvaluation(set, pipeline, set.Count).Epoch(0).Single().Inputs;
        using var source = Images(test.SelectClasses([0, 1, 2, 3, 4]).SamplePerClass(40, 1));
        using var target = Images(test.SelectClasses([5, 6, 7, 8, 9]).SamplePerClass(40, 1));
        Console.WriteLine($"class shift (classes 0–4 → 5–9, clean): {ShiftLocalization.Localize(model.Backbone, source, target).Describe()}");
    }

    private static string? StringOption(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int IntOption(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
