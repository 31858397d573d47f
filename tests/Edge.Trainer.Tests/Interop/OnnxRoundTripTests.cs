using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using Google.Protobuf;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Interop;

public sealed class OnnxRoundTripTests
{
    public static TheoryData<string> Architectures => [.. BackboneZoo.Architectures];

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Export_then_import_gives_the_same_logits(string arch)
    {
        using var scope = NewDisposeScope();
        var model = TransferModel.Create(arch, classes: 10, seed: 21);
        OnnxTestModels.PerturbBatchNorm(model, seed: 8);
        model.eval();
        var imported = OnnxImporter.Import(OnnxExporter.Export(model).ToByteArray(), arch + ".onnx");
        imported.eval();
        var x = TestData.Batches(perClass: 1, batchSize: 4, size: 64).Epoch(0).First().Inputs;
        using var noGrad = no_grad();
        double diff = OnnxTestModels.MaxDiff(imported.forward(x), model.forward(x));
        Console.WriteLine($"{arch}: round trip max |Δ| = {diff:E2}");
        Assert.True(diff <= 1e-4, $"{arch}: {diff:E2}");
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void An_imported_backbone_finds_the_same_layer_groups_from_the_graph_alone(string arch)
    {
        using var scope = NewDisposeScope();
        var zoo = BackboneZoo.Create(arch, seed: 1);
        var imported = OnnxImporter.ImportBackbone(OnnxExporter.Export(zoo).ToByteArray(), arch + ".onnx");
        Assert.Equal(zoo.FeatureDim, imported.FeatureDim);
        Assert.Equal(ZooBackbone.GroupNames, imported.LayerGroups.Select(g => g.Name));
        foreach (var (expected, actual) in zoo.LayerGroups.Zip(imported.LayerGroups))
            Assert.True(expected.ParameterCount == actual.ParameterCount, $"{arch} {expected.Name}: zoo {expected.ParameterCount}, imported {actual.ParameterCount}");
        // Parameters become parameters and running statistics become buffers, nothing else.
        Assert.Equal(zoo.parameters().Sum(p => p.numel()), imported.parameters().Sum(p => p.numel()));
        Assert.Equal(zoo.buffers().Where(b => b.is_floating_point()).Sum(b => b.numel()), imported.state_dict().Values.Where(b => b.is_floating_point()).Sum(b => b.numel()) - imported.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Node_name_patterns_override_the_structural_groups()
    {
        using var scope = NewDisposeScope();
        byte[] onnx = OnnxExporter.Export(BackboneZoo.Create("resnet18", seed: 1)).ToByteArray();
        var imported = OnnxImporter.ImportBackbone(onnx, "resnet18.onnx", new OnnxImportOptions
        {
            GroupPatterns = [("stage4", "^layer3\\."), ("stem", "^layer1\\.0\\.")],
        });
        var zoo = BackboneZoo.Create("resnet18", seed: 1);
        long Count(IEnumerable<EdgeTL.Trainer.Models.LayerGroup> groups, string name) => groups.Single(g => g.Name == name).ParameterCount;
        long layer10 = zoo.named_parameters().Where(p => p.name.StartsWith("layer1.0.", StringComparison.Ordinal)).Sum(p => p.parameter.numel());
        Assert.Equal(Count(zoo.LayerGroups, "stage4") + Count(zoo.LayerGroups, "stage3"), Count(imported.LayerGroups, "stage4"));
        Assert.Equal(0, Count(imported.LayerGroups, "stage3"));
        Assert.Equal(Count(zoo.LayerGroups, "stem") + layer10, Count(imported.LayerGroups, "stem"));
        var unknown = Assert.Throws<EdgeTrainerException>(() => OnnxImporter.ImportBackbone(onnx, "x", new OnnxImportOptions { GroupPatterns = [("layer9", ".")] }));
        Assert.Equal(TrainerErrorCode.UnknownLayerGroup, unknown.Code);
    }

    [Fact]
    public void An_imported_model_fine_tunes_and_its_frozen_groups_stay_unchanged()
    {
        using var scope = NewDisposeScope();
        var zoo = BackboneZoo.Create("resnet18", seed: 3);
        var backbone = OnnxImporter.ImportBackbone(OnnxExporter.Export(zoo).ToByteArray(), "resnet18.onnx");
        manual_seed(5);
        var model = new TransferModel(backbone, classes: 10);
        model.Freeze("stem", "stage1", "stage2");
        var frozen = FrozenState(model).Select(t => t.clone()).ToList();
        Assert.NotEmpty(frozen);
        var optimizer = optim.AdamW(model.parameters().Where(p => p.requires_grad), lr: 1e-3);
        var batches = TestData.Batches(perClass: 10, batchSize: 20, size: 32);
        var losses = new List<float>();
        for (int epoch = 0; losses.Count < 50; epoch++)
        {
            foreach (var (inputs, labels) in batches.Epoch(epoch))
            {
                using var step = NewDisposeScope();
                model.SetTrainingMode(true);
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.forward(inputs), labels);
                loss.backward();
                optimizer.step();
                losses.Add(loss.item<float>());
            }
        }
        double first = losses.Take(10).Average(), last = losses.TakeLast(10).Average();
        Console.WriteLine($"imported resnet18 fine-tune: loss {first:F3} → {last:F3}");
        Assert.True(last < 0.7 * first, $"loss {first:F3} → {last:F3}");
        var after = FrozenState(model);
        Assert.Equal(frozen.Count, after.Count);
        Assert.All(frozen.Zip(after), pair => Assert.True(TestData.Same(pair.First, pair.Second)));
        Assert.All(model.Group("stage4").Parameters(), p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void FreezeBatchNormStatistics_keeps_the_running_statistics_of_an_imported_graph_while_its_affine_terms_train()
    {
        using var scope = NewDisposeScope();
        var zoo = BackboneZoo.Create("resnet18", seed: 3);
        var backbone = OnnxImporter.ImportBackbone(OnnxExporter.Export(zoo).ToByteArray(), "resnet18.onnx");
        manual_seed(5);
        var model = new TransferModel(backbone, classes: 10);
        var statistics = Statistics(model, "stage4").Select(t => t.clone()).ToList();
        var affine = model.Group("stage4").Modules.SelectMany(m => m.named_parameters()).Select(p => p.parameter.clone()).ToList();
        Assert.NotEmpty(statistics);
        new TrainingLoop(new TrainerOptions
        {
            Epochs = 2,
            Unfreeze = new UnfreezeSchedule([new(1, ["stage4"])]),
            FreezeBatchNormStatistics = true,
            RestoreBest = false,
        }).Fit(model, TestData.Batches(perClass: 2, batchSize: 10, size: 32));

        Assert.All(statistics.Zip(Statistics(model, "stage4")), pair => Assert.True(TestData.Same(pair.First, pair.Second)));
        var trained = model.Group("stage4").Modules.SelectMany(m => m.named_parameters()).Select(p => p.parameter).ToList();
        Assert.Contains(affine.Zip(trained), pair => !TestData.Same(pair.First, pair.Second));
    }

    private static List<Tensor> Statistics(TransferModel model, string group) =>
        [.. model.Group(group).Modules.SelectMany(m => m.named_buffers()).Where(b => b.name.EndsWith("running_mean", StringComparison.Ordinal) || b.name.EndsWith("running_var", StringComparison.Ordinal)).Select(b => b.buffer)];

    /// <summary>Parameters and running statistics of the frozen groups, in a fixed order.</summary>
    private static List<Tensor> FrozenState(TransferModel model) =>
        [.. model.Groups.Where(g => !g.IsTrainable).SelectMany(g => g.Modules).SelectMany(m => m.state_dict().Values)];
}
