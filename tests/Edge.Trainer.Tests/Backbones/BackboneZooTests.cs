using EdgeTL.Trainer.Backbones;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Backbones;

public sealed class BackboneZooTests
{
    public static TheoryData<string, long, int> Architectures => new()
    {
        { "resnet18", 11_689_512, 512 },
        { "resnet34", 21_797_672, 512 },
        { "resnet50", 25_557_032, 2048 },
        { "mobilenet_v2", 3_504_872, 1280 },
        { "mobilenet_v3_small", 2_542_856, 576 },
        { "mobilenet_v3_large", 5_483_032, 960 },
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Create_EachArchitecture_MatchesTorchvisionAndExtractsFeatures(string arch, long torchvisionParameters, int featureDim)
    {
        using var reference = BackboneZoo.CreateReference(arch);
        Assert.Equal(torchvisionParameters, reference.parameters().Sum(p => p.numel()));

        using var backbone = BackboneZoo.Create(arch, seed: 1);
        Assert.Equal(arch, backbone.Architecture);
        Assert.Equal(featureDim, backbone.FeatureDim);
        long backboneParameters = backbone.parameters().Sum(p => p.numel());
        Assert.Equal(torchvisionParameters - BackboneZoo.ClassifierParameterCount(reference), backboneParameters);
        Assert.Equal(backboneParameters, backbone.LayerGroups.Sum(g => g.ParameterCount));
        Assert.Equal(["stem", "stage1", "stage2", "stage3", "stage4"], backbone.LayerGroups.Select(g => g.Name));
        Assert.All(backbone.LayerGroups, g => Assert.True(g.ParameterCount > 0, $"{g.Name} is empty"));

        backbone.eval();
        foreach (int size in new[] { 32, 64 })
        {
            using var input = randn(2, 3, size, size);
            using var features = backbone.ForwardFeatures(input);
            Assert.Equal([2L, featureDim], features.shape);
            Assert.True(features.isfinite().all().item<bool>());
            Assert.True(features.abs().sum().item<float>() > 0);
        }
    }

    [Fact]
    public void Create_ResNet_KeepsTorchvisionStateDictNames()
    {
        using var backbone = BackboneZoo.Create("resnet18");
        var keys = backbone.state_dict().Keys.ToHashSet();
        Assert.Contains("conv1.weight", keys);
        Assert.Contains("layer4.1.bn2.running_var", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("fc.", StringComparison.Ordinal));
        var children = backbone.named_children().ToDictionary(c => c.name, c => c.module);
        Assert.Contains(children["conv1"], backbone.LayerGroups[0].Modules);
        Assert.Contains(children["bn1"], backbone.LayerGroups[0].Modules);
        Assert.Equal([children["layer1"]], backbone.LayerGroups[1].Modules.Where(m => m.parameters().Any()));
    }

    [Fact]
    public void Create_ResNetStages_AreTheLayerBlocks()
    {
        using var backbone = BackboneZoo.Create("resnet50");
        var stage4 = backbone.LayerGroups[4].Parameters().Sum(p => p.numel());
        var layer4 = backbone.named_children().Single(c => c.name == "layer4").module.parameters().Sum(p => p.numel());
        Assert.Equal(layer4, stage4);
    }

    [Fact]
    public void Create_SameSeed_SameWeights()
    {
        using var a = BackboneZoo.Create("mobilenet_v3_small", seed: 4);
        using var b = BackboneZoo.Create("mobilenet_v3_small", seed: 4);
        Assert.True(a.parameters().Zip(b.parameters()).All(p => TestData.Same(p.First, p.Second)));
    }

    [Fact]
    public void Create_UnknownArchitecture_ThrowsTypedErrorListingKnownOnes()
    {
        var e = Assert.Throws<EdgeTrainerException>(() => BackboneZoo.Create("vgg16"));
        Assert.Equal(TrainerErrorCode.UnknownArchitecture, e.Code);
        Assert.Contains("resnet18", e.Message, StringComparison.Ordinal);
    }
}
