using EdgeTL.Agent.Learning;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Models;
using Google.Protobuf;

namespace EdgeTL.Agent.Tests.Learning;

/// <summary>Where the trainable model of a backbone fine-tune starts from.</summary>
public sealed class BackboneTuningTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-backbone-tuning-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Without_a_device_head_the_head_starts_from_the_packages_onnx_head_and_the_backbone_from_its_onnx()
    {
        using var shipped = TransferModel.Create("resnet18", classes: 5, seed: 4);
        string backbone = Path.Combine(_dir, "backbone.onnx"), head = Path.Combine(_dir, "head.onnx");
        File.WriteAllBytes(backbone, OnnxExporter.Export(shipped.Backbone.Network, new OnnxExportOptions { TraceInputSize = 32 }).ToByteArray());
        OnnxExporter.Save(shipped.Head, head);

        using var model = BackboneTuning.Build(backbone, classes: 5, servingHead: null, packageHeadOnnx: head, seed: 0, out bool carried);
        using var fresh = BackboneTuning.Build(backbone, classes: 5, servingHead: null, packageHeadOnnx: null, seed: 0, out bool freshCarried);

        Assert.True(carried);
        Assert.False(freshCarried);
        var expected = shipped.Head.parameters().ToList();
        Assert.Equal(expected.Count, model.Head.parameters().Count());
        Assert.All(expected.Zip(model.Head.parameters()), p => Assert.True(p.First.eq(p.Second).all().item<bool>()));
        Assert.Contains(expected.Zip(fresh.Head.parameters()), p => !p.First.eq(p.Second).all().item<bool>());
        Assert.Equal(["stem", "stage1", "stage2", "stage3", "stage4", "head"], model.Groups.Select(g => g.Name));
    }
}
