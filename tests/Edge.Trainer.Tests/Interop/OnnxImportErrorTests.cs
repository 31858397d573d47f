using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Models;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Interop;

public sealed class OnnxImportErrorTests
{
    private static readonly Lazy<byte[]> Head = new(() => OnnxExporter.Export(HeadModel.Create(16, 3)).ToByteArray());

    [Fact]
    public void Random_bytes_are_not_an_ONNX_model()
    {
        var bytes = new byte[4096];
        new Random(1).NextBytes(bytes);
        var error = Assert.Throws<EdgeTrainerException>(() => OnnxImporter.Import(bytes, "noise.onnx"));
        Assert.Equal(TrainerErrorCode.InvalidOnnxModel, error.Code);
        Assert.Contains("noise.onnx", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_file_is_rejected_with_a_clear_error()
    {
        byte[] whole = OnnxExporter.Export(BackboneZoo.Create("resnet18", seed: 1)).ToByteArray();
        foreach (int length in new[] { 0, 10, whole.Length / 2, whole.Length - 3 })
        {
            var error = Assert.Throws<EdgeTrainerException>(() => OnnxImporter.Import(whole[..length], "cut.onnx"));
            Assert.Equal(TrainerErrorCode.InvalidOnnxModel, error.Code);
        }
    }

    [Fact]
    public void An_unsupported_operator_is_named_with_its_node()
    {
        var model = ModelProto.Parser.ParseFrom(Head.Value);
        model.Graph.Node[1].OpType = "Erf";
        model.Graph.Node[1].Name = "odd_node";
        var error = Assert.Throws<EdgeTrainerException>(() => OnnxImporter.Import(model.ToByteArray(), "erf.onnx"));
        Assert.Equal(TrainerErrorCode.UnsupportedOnnxOperator, error.Code);
        Assert.Contains("'Erf'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'odd_node'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(19)]
    public void An_opset_outside_8_to_17_is_refused(int opset)
    {
        var model = ModelProto.Parser.ParseFrom(Head.Value);
        model.OpsetImport[0].Version = opset;
        var error = Assert.Throws<EdgeTrainerException>(() => OnnxImporter.Import(model.ToByteArray(), "old.onnx"));
        Assert.Equal(TrainerErrorCode.UnsupportedOnnxOperator, error.Code);
        Assert.Contains($"opset {opset}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_node_reading_an_undefined_value_is_a_malformed_graph()
    {
        var model = ModelProto.Parser.ParseFrom(Head.Value);
        model.Graph.Node[2].Input[0] = "nowhere";
        var error = Assert.Throws<EdgeTrainerException>(() => OnnxImporter.Import(model.ToByteArray(), "broken.onnx"));
        Assert.Equal(TrainerErrorCode.InvalidOnnxModel, error.Code);
        Assert.Contains("'nowhere'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void External_weights_and_a_missing_file_are_clear_errors()
    {
        var model = ModelProto.Parser.ParseFrom(Head.Value);
        model.Graph.Initializer[0].DataLocation = TensorProto.Types.DataLocation.External;
        var error = Assert.Throws<EdgeTrainerException>(() => OnnxImporter.Import(model.ToByteArray(), "external.onnx"));
        Assert.Contains("external data", error.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<EdgeTrainerException>(() => OnnxImporter.Import("/nonexistent/model.onnx"));
        Assert.Equal(TrainerErrorCode.InvalidOnnxModel, missing.Code);
    }

    [Fact]
    public void A_wrong_input_shape_names_the_expected_shape()
    {
        using var scope = NewDisposeScope();
        var imported = OnnxImporter.Import(Head.Value, "head.onnx");
        var error = Assert.Throws<EdgeTrainerException>(() => imported.forward(randn(2, 15)));
        Assert.Equal(TrainerErrorCode.InvalidInputShape, error.Code);
        Assert.Contains("[?, 16]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Re_export_of_a_fine_tuned_import_carries_the_new_weights()
    {
        using var scope = NewDisposeScope();
        var imported = OnnxImporter.Import(Head.Value, "head.onnx");
        using (no_grad())
        {
            foreach (var p in imported.parameters())
                p.add_(1f);
        }
        var again = OnnxImporter.Import(imported.ToModelProto().ToByteArray(), "again.onnx");
        var x = randn(4, 16);
        using var noGrad = no_grad();
        Assert.True(TestData.Same(imported.forward(x), again.forward(x)));
    }
}
