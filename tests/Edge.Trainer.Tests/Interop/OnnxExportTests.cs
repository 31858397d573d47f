using EdgeTL.Runtime.Onnx;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Models;
using Google.Protobuf;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Interop;

public sealed class OnnxExportTests
{
    public static TheoryData<string> Architectures => [.. BackboneZoo.Architectures];

    /// <summary>
    /// fp32: |Δ| ≤ 1e-4. fp16: |Δ| ≤ 1e-2 · max(1, max |logit|). The fp16 graph rounds every
    /// activation to 11 significant bits; where the logits reach 10–16 (resnet34/50 with random
    /// weights) that alone is ~1e-3 relative, so its bound scales with the logits.
    /// </summary>
    [Theory]
    [MemberData(nameof(Architectures))]
    public void Every_zoo_architecture_with_the_seed_head_matches_ONNX_Runtime_at_two_sizes_in_fp32_and_fp16(string arch)
    {
        using var scope = NewDisposeScope();
        var model = TransferModel.Create(arch, classes: 10, seed: 11);
        OnnxTestModels.PerturbBatchNorm(model, seed: 5);
        model.eval();
        using var fp32 = OnnxModel.Load(OnnxExporter.Export(model).ToByteArray());
        using var fp16 = OnnxModel.Load(OnnxExporter.Export(model, new OnnxExportOptions { Float16 = true }).ToByteArray());
        Assert.Equal([-1, 3, -1, -1], fp32.InputShape);

        foreach (int size in new[] { 64, 96 })
        {
            var x = TestData.Batches(perClass: 1, batchSize: 4, size: size).Epoch(0).First().Inputs;
            Tensor expected;
            using (no_grad())
                expected = model.forward(x);
            double d32 = OnnxTestModels.MaxDiff(OnnxTestModels.Run(fp32, x), expected);
            double d16 = OnnxTestModels.MaxDiff(OnnxTestModels.Run(fp16, x), expected);
            Console.WriteLine($"{arch} @{size}: fp32 max |Δ| = {d32:E2}, fp16 max |Δ| = {d16:E2}, max |logit| = {expected.abs().max().item<float>():F3}");
            Assert.True(d32 <= 1e-4, $"{arch} @{size} fp32: {d32:E2}");
            double scale = Math.Max(1, expected.abs().max().item<float>());
            Assert.True(d16 <= 1e-2 * scale, $"{arch} @{size} fp16: {d16:E2} (logit scale {scale:F2})");
        }
    }

    [Fact]
    public void A_head_on_its_own_exports_with_a_dynamic_batch()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var head = HeadModel.Create(featureDim: 512, classes: 7);
        head.eval();
        using var onnx = OnnxModel.Load(OnnxExporter.Export(head).ToByteArray());
        Assert.Equal([-1, 512], onnx.InputShape);
        foreach (int batch in new[] { 1, 5 })
        {
            var x = randn(batch, 512);
            using var noGrad = no_grad();
            Assert.True(OnnxTestModels.MaxDiff(OnnxTestModels.Run(onnx, x), head.forward(x)) <= 1e-5);
        }
    }

    [Fact]
    public void Export_uses_eval_semantics_and_restores_the_training_mode()
    {
        using var scope = NewDisposeScope();
        var model = TransferModel.Create("resnet18", classes: 4, seed: 2);
        model.train();
        var proto = OnnxExporter.Export(model, new OnnxExportOptions { Opset = 13 });
        Assert.True(model.training);
        Assert.DoesNotContain(proto.Graph.Node, n => n.OpType == "Dropout");
        Assert.Equal(20, proto.Graph.Node.Count(n => n.OpType == "BatchNormalization"));
        Assert.Equal(13, proto.OpsetImport.Single().Version);
        Assert.Contains(proto.Graph.Initializer, t => t.Name == "backbone.layer4.1.bn2.running_var");
    }

    [Fact]
    public void Opset_13_writes_hardswish_as_hardsigmoid_times_x_and_still_matches()
    {
        using var scope = NewDisposeScope();
        var model = TransferModel.Create("mobilenet_v3_small", classes: 3, seed: 2);
        model.eval();
        var proto = OnnxExporter.Export(model, new OnnxExportOptions { Opset = 13 });
        Assert.DoesNotContain(proto.Graph.Node, n => n.OpType == "HardSwish");
        using var onnx = OnnxModel.Load(proto.ToByteArray());
        var x = randn(2, 3, 64, 64);
        using var noGrad = no_grad();
        Assert.True(OnnxTestModels.MaxDiff(OnnxTestModels.Run(onnx, x), model.forward(x)) <= 1e-4);
    }

    [Fact]
    public void A_module_without_an_export_rule_is_named_in_the_error()
    {
        var model = nn.Sequential(("0", nn.Linear(4, 4)), ("odd", nn.GELU()));
        var error = Assert.Throws<EdgeTrainerException>(() => OnnxExporter.Export(model));
        Assert.Equal(TrainerErrorCode.UnsupportedExport, error.Code);
        Assert.Contains("'odd'", error.Message, StringComparison.Ordinal);
        Assert.Contains("GELU", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_opset_out_of_range_is_refused()
    {
        var model = HeadModel.Create(8, 2);
        var error = Assert.Throws<EdgeTrainerException>(() => OnnxExporter.Export(model, new OnnxExportOptions { Opset = 11 }));
        Assert.Equal(TrainerErrorCode.InvalidConfiguration, error.Code);
    }
}
