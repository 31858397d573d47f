using EdgeTL.Trainer.Adaptation;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Models;
using Google.Protobuf;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Adaptation;

/// <summary>Label-free adaptation of a backbone (AdaBN, Tent) on real inverted Fashion-MNIST images, for an imported ONNX backbone and a TorchSharp zoo backbone.</summary>
public sealed class TestTimeAdaptationTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("onnx")]
    [InlineData("zoo")]
    public void Tent_changes_only_batchnorm_scales_shifts_and_statistics_lowers_the_target_entropy_and_restores_every_flag(string kind)
    {
        using var shipped = TransferModel.Create("resnet18", 5, seed: 4);
        using var model = kind == "onnx"
            ? new TransferModel(OnnxImporter.ImportBackbone(OnnxExporter.Export(shipped.Backbone.Network, new OnnxExportOptions { TraceInputSize = 32 }).ToByteArray(), "resnet18"), 5)
            : shipped;
        if (kind == "onnx")
            CopyHead(shipped, model);
        model.FreezeBackbone();
        var flags = model.parameters().Select(p => p.requires_grad).ToArray();
        bool training = model.Backbone.Network.training;
        var before = Snapshot(model.Backbone.Network);
        using var images = Images(TestData.Train.SamplePerClass(12, seed: 5).Inverted());

        var result = TestTimeAdaptation.Tent(model.Backbone, model.Head, images, new TentOptions { Steps = 8, BatchSize = 20 });

        var after = Snapshot(model.Backbone.Network);
        int weights = before.Params.Zip(after.Params).Count(p => p.First.dim() >= 2 && !Same(p.First, p.Second));
        int vectors = before.Params.Zip(after.Params).Count(p => p.First.dim() < 2 && !Same(p.First, p.Second));
        int statistics = before.Buffers.Zip(after.Buffers).Count(p => p.First.dtype == ScalarType.Float32 && !Same(p.First, p.Second));
        output.WriteLine($"{kind}: entropy {result.EntropyBefore:F3} → {result.EntropyAfter:F3} nats in {result.Steps} steps on {result.TunedParameters} affine tensors; " +
            $"changed {weights} weights, {vectors} vectors, {statistics} statistics");
        Assert.Equal(8, result.Steps);
        Assert.Equal(0, weights);
        Assert.True(vectors >= result.TunedParameters / 2, $"{vectors} of {result.TunedParameters} affine tensors changed");
        Assert.True(statistics > 10);
        Assert.True(result.EntropyAfter < result.EntropyBefore, $"entropy {result.EntropyBefore} → {result.EntropyAfter}");
        Assert.Equal(flags, model.parameters().Select(p => p.requires_grad).ToArray());
        Assert.Equal(training, model.Backbone.Network.training);
    }

    [Fact]
    public void AdaBn_changes_only_statistics_and_clear_errors_name_what_is_missing()
    {
        using var model = TransferModel.Create("resnet18", 5, seed: 4);
        model.SetTrainingMode(false);
        var before = Snapshot(model.Backbone.Network);
        using var images = Images(TestData.Train.SamplePerClass(8, seed: 6).Inverted());

        int batches = TestTimeAdaptation.AdaBn(model.Backbone, images, batchSize: 16);

        var after = Snapshot(model.Backbone.Network);
        Assert.Equal(5, batches);   // 80 images (8 of each of 10 classes) in batches of 16
        Assert.All(before.Params.Zip(after.Params), p => Assert.True(Same(p.First, p.Second)));
        Assert.Contains(before.Buffers.Zip(after.Buffers), p => !Same(p.First, p.Second));
        Assert.False(model.Backbone.Network.training);

        // Restricted to the first groups (where an input-level shift lives), the others keep their statistics bit for bit.
        using var restricted = TransferModel.Create("resnet18", 5, seed: 4);
        var stem = restricted.Backbone.LayerGroups.Single(g => g.Name == "stem").Modules.SelectMany(m => m.buffers()).Select(b => b.clone()).ToList();
        var rest = restricted.Backbone.LayerGroups.Where(g => g.Name is "stage2" or "stage3" or "stage4").SelectMany(g => g.Modules).SelectMany(m => m.buffers()).Select(b => b.clone()).ToList();
        TestTimeAdaptation.AdaBn(restricted.Backbone, images, groups: ["stem", "stage1"]);
        Assert.Contains(stem.Zip(restricted.Backbone.LayerGroups.Single(g => g.Name == "stem").Modules.SelectMany(m => m.buffers())), p => !Same(p.First, p.Second));
        Assert.All(rest.Zip(restricted.Backbone.LayerGroups.Where(g => g.Name is "stage2" or "stage3" or "stage4").SelectMany(g => g.Modules).SelectMany(m => m.buffers())),
            p => Assert.True(Same(p.First, p.Second)));
        Assert.Equal(TrainerErrorCode.UnknownLayerGroup,
            Assert.Throws<EdgeTrainerException>(() => TestTimeAdaptation.AdaBn(restricted.Backbone, images, groups: ["stage9"])).Code);

        using var empty = zeros(0, 3, 32, 32);
        Assert.Equal(TrainerErrorCode.EmptyDataset, Assert.Throws<EdgeTrainerException>(() => TestTimeAdaptation.AdaBn(model.Backbone, empty)).Code);
        var plain = new PlainBackbone();
        using var head = nn.Linear(8, 5);
        var error = Assert.Throws<EdgeTrainerException>(() => TestTimeAdaptation.Tent(plain, head, images));
        Assert.Equal(TrainerErrorCode.UnsupportedModel, error.Code);
        Assert.Contains("BatchNorm", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A backbone without BatchNorm, as a graph whose normalization was folded into its convolutions would be.</summary>
    private sealed class PlainBackbone : EdgeTL.Trainer.Backbones.IBackbone
    {
        public string Architecture => "plain";
        public int FeatureDim => 8;
        public nn.Module<Tensor, Tensor> Network { get; } = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten());
        public int MinInputSize => 3;
        public IReadOnlyList<LayerGroup> LayerGroups => [];
        public Tensor ForwardFeatures(Tensor input) => Network.forward(input);
    }

    private static Tensor Images(EdgeTL.Runtime.Data.LabeledImageSet set) =>
        Data.ImageTensorBatches.ForEvaluation(set, TestData.Pipeline(), set.Count).Epoch(0).Single().Inputs;

    private static (List<Tensor> Params, List<Tensor> Buffers) Snapshot(nn.Module module) =>
        ([.. module.parameters().Select(p => p.detach().clone())], [.. module.buffers().Select(b => b.detach().clone())]);

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static void CopyHead(TransferModel from, TransferModel to)
    {
        using var noGrad = no_grad();
        foreach (var (s, t) in from.Head.parameters().Zip(to.Head.parameters()))
            t.copy_(s);
    }
}
