using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Models;

public sealed class FreezingTests
{
    [Fact]
    public void Fit_FrozenGroups_StayBitwiseUnchanged_UnfrozenChange()
    {
        using var model = TransferModel.Create("resnet18", 10, seed: 3);
        model.Freeze("stem", "stage1", "stage2", "stage3");
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        var trainer = new TrainingLoop(new TrainerOptions { Epochs = 2, Schedule = LrScheduleKind.Constant, LearningRates = new() { BaseLearningRate = 1e-3 } });
        var result = trainer.Fit(model, TestData.Batches(perClass: 2, batchSize: 10));
        Assert.Equal(4, result.Steps);

        var frozen = new[] { "stem", "stage1", "stage2", "stage3" };
        var frozenNames = NamesOf(model, frozen);
        var trainableNames = NamesOf(model, ["stage4", "head"]);
        foreach (var (name, value) in model.state_dict())
        {
            bool same = TestData.Same(value, before[name]);
            if (frozenNames.Contains(name))
                Assert.True(same, $"frozen {name} changed");
            else if (trainableNames.Contains(name) && value.is_floating_point() && !name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
                Assert.False(same, $"trainable {name} did not change");
        }
    }

    [Fact]
    public void FreezeBackbone_LeavesOnlyHeadTrainable()
    {
        using var model = TransferModel.Create("mobilenet_v2", 5);
        model.FreezeBackbone();
        Assert.Equal(["head"], model.TrainableGroups());
        Assert.All(model.Backbone.Network.parameters(), p => Assert.False(p.requires_grad));
        Assert.All(model.Head.parameters(), p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void SetTrainingMode_FrozenGroupsKeepBatchNormInEval()
    {
        using var model = TransferModel.Create("resnet18", 5);
        model.Freeze("stem", "stage1");
        model.SetTrainingMode(true);
        Assert.All(model.Group("stem").Modules, m => Assert.False(m.training));
        Assert.All(model.Group("stage1").Modules.SelectMany(m => m.modules()), m => Assert.False(m.training));
        Assert.All(model.Group("stage2").Modules, m => Assert.True(m.training));
    }

    [Fact]
    public void Freeze_UnknownGroup_ThrowsTypedError()
    {
        using var model = TransferModel.Create("resnet18", 5);
        var e = Assert.Throws<EdgeTrainerException>(() => model.Freeze("layer9"));
        Assert.Equal(TrainerErrorCode.UnknownLayerGroup, e.Code);
    }

    [Fact]
    public void Head_IsTheSeedHead()
    {
        using var model = TransferModel.Create("resnet18", 7);
        var shapes = model.Head.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal([512L, 512L], shapes["0.weight"]);
        Assert.Equal([7L, 512L], shapes["3.weight"]);
        var dropout = model.Head.children().OfType<TorchSharp.Modules.Dropout>().Single();
        Assert.NotNull(dropout);
        Assert.Contains("head.3.bias", model.state_dict().Keys);
    }

    private static HashSet<string> NamesOf(TransferModel model, IReadOnlyList<string> groups)
    {
        var tensors = groups.SelectMany(g => model.Group(g).Modules).SelectMany(m => m.state_dict().Values).ToList();
        return model.state_dict().Where(kv => tensors.Any(t => t.Handle == kv.Value.Handle)).Select(kv => kv.Key).ToHashSet();
    }
}
