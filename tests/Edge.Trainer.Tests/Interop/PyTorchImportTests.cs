using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop;
using EdgeTL.Trainer.Models;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Interop;

public sealed class PyTorchImportTests
{
    /// <summary>
    /// |Δ| ≤ 1e-4 absolute. resnet50's seeded logits reach about 100, where float32 summation
    /// order alone (PyTorch 1.13's oneDNN against libtorch 2.10) moves them by ~1e-6 relative,
    /// so its bound is 1e-4 relative to the largest logit.
    /// </summary>
    [Theory]
    [InlineData("resnet18", ".pt", false)]
    [InlineData("resnet18", ".safetensors", false)]
    [InlineData("mobilenet_v2", ".pt", false)]
    [InlineData("mobilenet_v2", ".safetensors", false)]
    [InlineData("resnet50", ".pt", true)]
    public void Weights_saved_by_PyTorch_give_PyTorchs_logits(string arch, string extension, bool relativeToLogitScale)
    {
        using var scope = NewDisposeScope();
        var model = BackboneZoo.CreateReference(arch, seed: 99);
        var report = StateDictLoader.LoadFile(model, PeerFixtures.File(arch + extension));
        model.eval();
        var (input, expected) = PeerFixtures.InputAndLogits(arch);
        using var noGrad = no_grad();
        var logits = model.forward(input);
        double maxDiff = (logits - expected).abs().max().item<float>();
        double scale = expected.abs().max().item<float>();
        Console.WriteLine($"{arch}{extension}: max |Δ| = {maxDiff:E2}, max |logit| = {scale:F2}");
        double bound = relativeToLogitScale ? 1e-4 * Math.Max(1, scale) : 1e-4;
        Assert.True(maxDiff <= bound, $"{arch}{extension}: max |Δ| = {maxDiff:E2} > {bound:E2} (max |logit| {scale:F2})");
        Assert.Equal(model.state_dict().Count, report.Loaded.Count);
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void A_torchvision_file_loads_into_a_transfer_model_with_the_head_skipped()
    {
        using var scope = NewDisposeScope();
        var model = TransferModel.Create("resnet18", classes: 10, seed: 3);
        var headBefore = model.Head.parameters().Select(p => p.detach().clone()).ToArray();
        var report = StateDictLoader.LoadFile(model, PeerFixtures.File("resnet18.pt"), new WeightLoadOptions { SkipHead = true });

        Assert.Equal("backbone.", report.KeyPrefix);
        Assert.Equal(["backbone.fc.bias", "backbone.fc.weight", "head.0.bias", "head.0.weight", "head.3.bias", "head.3.weight"], report.Skipped);
        Assert.Equal(model.Head.parameters().Count(), headBefore.Length);
        Assert.All(model.Head.parameters().Zip(headBefore), pair => Assert.True(TestData.Same(pair.First, pair.Second)));

        // The backbone now computes PyTorch's features: its pooled output fed to PyTorch's fc gives PyTorch's logits.
        var reference = BackboneZoo.CreateReference("resnet18");
        StateDictLoader.LoadFile(reference, PeerFixtures.File("resnet18.pt"));
        model.eval();
        reference.eval();
        var (input, expected) = PeerFixtures.InputAndLogits("resnet18");
        using var noGrad = no_grad();
        var features = model.Backbone.ForwardFeatures(input);
        var fc = reference.named_children().Single(c => c.name == "fc").module as nn.Module<Tensor, Tensor>;
        double maxDiff = (fc!.forward(features) - expected).abs().max().item<float>();
        Assert.True(maxDiff <= 1e-4, $"max |Δ| = {maxDiff:E2}");
    }

    [Fact]
    public void A_head_of_another_shape_is_an_error_listing_the_keys_unless_skipped()
    {
        using var scope = NewDisposeScope();
        var model = BackboneZoo.CreateReference("resnet18");
        var before = model.state_dict()["conv1.weight"].clone();
        var error = Assert.Throws<EdgeTrainerException>(() => StateDictLoader.LoadFile(model, PeerFixtures.File("resnet18_7classes.pt")));
        Assert.Equal(TrainerErrorCode.WeightsMismatch, error.Code);
        Assert.Contains("mis-shaped keys (2): fc.weight (file [7, 512], model [1000, 512])", error.Message, StringComparison.Ordinal);
        Assert.True(TestData.Same(before, model.state_dict()["conv1.weight"]));

        var report = StateDictLoader.LoadFile(model, PeerFixtures.File("resnet18_7classes.pt"), new WeightLoadOptions { SkipHead = true });
        Assert.Equal(["fc.bias", "fc.weight"], report.Skipped);
        Assert.False(TestData.Same(before, model.state_dict()["conv1.weight"]));
    }

    [Fact]
    public void Another_architecture_is_an_error_listing_missing_and_unexpected_keys()
    {
        using var scope = NewDisposeScope();
        var model = BackboneZoo.CreateReference("resnet18");
        var error = Assert.Throws<EdgeTrainerException>(() => StateDictLoader.LoadFile(model, PeerFixtures.File("mobilenet_v2.safetensors"), new WeightLoadOptions { SkipHead = true }));
        Assert.Equal(TrainerErrorCode.WeightsMismatch, error.Code);
        Assert.Contains("missing keys (", error.Message, StringComparison.Ordinal);
        Assert.Contains("conv1.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected keys (", error.Message, StringComparison.Ordinal);
        Assert.Contains("features.0.0.weight", error.Message, StringComparison.Ordinal);
    }
}
