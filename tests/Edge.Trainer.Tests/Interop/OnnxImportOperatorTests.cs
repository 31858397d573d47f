using EdgeTL.Runtime.Onnx;
using EdgeTL.Trainer.Interop.Onnx;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Interop;

/// <summary>
/// Every supported operator in one hand-built graph, written the way each opset spells it
/// (Clip and Pad bounds as attributes before 11, Unsqueeze axes as an attribute before 13,
/// HardSwish from 14), imported and compared with ONNX Runtime on the same file.
/// </summary>
public sealed class OnnxImportOperatorTests
{
    [Theory]
    [InlineData(8)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(17)]
    public void An_operator_zoo_graph_matches_ONNX_Runtime(int opset)
    {
        using var scope = NewDisposeScope();
        byte[] model = OperatorZoo(opset).ToByteArray();
        var imported = OnnxImporter.Import(model, $"operator zoo opset {opset}");
        imported.eval();
        using var ort = OnnxModel.Load(model);
        var x = randn(3, 3, 16, 16, generator: new Generator(3));
        var expected = OnnxTestModels.Run(ort, x);
        Tensor actual;
        using (no_grad())
            actual = imported.forward(x);
        double diff = OnnxTestModels.MaxDiff(actual, expected);
        Assert.True(diff <= 1e-5, $"opset {opset}: max |Δ| = {diff:E2}");
        Assert.Equal(opset, imported.Opset);

        // Weights became parameters (Conv, BatchNorm, Gemm, MatMul and its bias Add), statistics buffers.
        Assert.Equal(["weight", "bias", "weight", "bias", "weight", "bias", "weight", "bias"],
            imported.named_parameters().Select(p => p.name.Split('.')[^1]));
        Assert.Contains(imported.state_dict().Keys, k => k.EndsWith(".running_var", StringComparison.Ordinal));

        // And the imported graph trains: gradients reach every parameter.
        imported.train();
        imported.forward(x).square().mean().backward();
        Assert.All(imported.parameters(), p => Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0));
    }

    private static ModelProto OperatorZoo(int opset)
    {
        var b = new OnnxGraphBuilder(opset);
        var g = new Generator(11);
        string Const(string name, Tensor t) => b.Initializer(name, t);
        var int64s = new List<TensorProto>();
        string Int64(string name, long[] values)
        {
            int64s.Add(OnnxProto.Int64Tensor(name + ":i64", values));
            return name + ":i64";
        }
        string Clip(string x, float lo, float hi) => opset < 11
            ? b.Node("Clip", "clip", [x], OnnxProto.Float("min", lo), OnnxProto.Float("max", hi))
            : b.Node("Clip", "clip", [x, b.Scalar("clip.min", lo), b.Scalar("clip.max", hi)]);

        var conv = b.Node("Conv", "conv", ["x", Const("conv.w", randn(8, 3, 3, 3, generator: g) * 0.3), Const("conv.b", randn(8, generator: g))],
            OnnxProto.Ints("kernel_shape", [3, 3]), OnnxProto.Ints("strides", [2, 2]), OnnxProto.Ints("pads", [1, 0, 2, 1]));
        var bn = b.Node("BatchNormalization", "bn", [conv, Const("bn.s", rand(8, generator: g) + 0.5), Const("bn.b", randn(8, generator: g)),
            Const("bn.m", randn(8, generator: g) * 0.1), Const("bn.v", rand(8, generator: g) + 0.5)], OnnxProto.Float("epsilon", 1e-3f));
        var relu = b.Node("Relu", "relu", [bn]);
        var clip = Clip(relu, 0, 6);
        var hsig = b.Node("HardSigmoid", "hsig", [clip], OnnxProto.Float("alpha", 0.3f), OnnxProto.Float("beta", 0.4f));
        var gate = opset >= 14 ? b.Node("HardSwish", "hswish", [bn]) : b.Node("LeakyRelu", "leaky", [bn], OnnxProto.Float("alpha", 0.1f));
        var mul = b.Node("Mul", "mul", [hsig, gate]);
        var sig = b.Node("Sigmoid", "sig", [mul]);
        var sub = b.Node("Sub", "sub", [mul, sig]);
        var div = b.Node("Div", "div", [sub, b.Scalar("two", 2f)]);
        string pad = opset < 11
            ? b.Node("Pad", "pad", [div], OnnxProto.Ints("pads", [0, 0, 1, 0, 0, 0, 0, 2]), OnnxProto.Float("value", 0.5f))
            : b.Node("Pad", "pad", [div, Int64("pads", [0, 0, 1, 0, 0, 0, 0, 2]), b.Scalar("pad.value", 0.5f)]);
        var maxPool = b.Node("MaxPool", "maxpool", [pad], OnnxProto.Ints("kernel_shape", [3, 3]), OnnxProto.Ints("strides", [1, 1]), OnnxProto.Ints("pads", [0, 1, 1, 0]));
        var avgPool = b.Node("AveragePool", "avgpool", [maxPool], OnnxProto.Ints("kernel_shape", [3, 3]), OnnxProto.Ints("strides", [2, 2]),
            OnnxProto.Ints("pads", [1, 1, 0, 0]), OnnxProto.Int("count_include_pad", 0));
        var tanh = b.Node("Tanh", "tanh", [avgPool]);
        var concat = b.Node("Concat", "concat", [avgPool, tanh], OnnxProto.Int("axis", 1));
        var mean = b.Node("ReduceMean", "reducemean", [concat], OnnxProto.Ints("axes", [2, 3]), OnnxProto.Int("keepdims", 1));
        var global = b.Node("GlobalAveragePool", "gap", [concat]);
        var pooled = b.Node("Add", "pooled", [mean, global]);
        var flat = b.Node("Flatten", "flatten", [pooled], OnnxProto.Int("axis", 1));
        var shape = b.Node("Shape", "shape", [pooled]);
        var batch = b.Node("Gather", "gather", [shape, Int64("zero", [0])], OnnxProto.Int("axis", 0));
        var target = b.Node("Concat", "target", [batch, Int64("minus1", [-1])], OnnxProto.Int("axis", 0));
        var reshaped = b.Node("Reshape", "reshape", [pooled, target]);
        var unsq = opset < 13
            ? b.Node("Unsqueeze", "unsqueeze", [reshaped], OnnxProto.Ints("axes", [2]))
            : b.Node("Unsqueeze", "unsqueeze", [reshaped, Int64("axes", [2])]);
        var squeezed = opset < 13
            ? b.Node("Squeeze", "squeeze", [unsq], OnnxProto.Ints("axes", [2]))
            : b.Node("Squeeze", "squeeze", [unsq, Int64("axes2", [2])]);
        var gemm = b.Node("Gemm", "gemm", [flat, Const("gemm.w", randn(5, 16, generator: g)), Const("gemm.b", randn(5, generator: g))], OnnxProto.Int("transB", 1));
        var matmul = b.Node("MatMul", "matmul", [squeezed, Const("matmul.w", randn(16, 5, generator: g))]);
        var bias = b.Node("Add", "matmul_bias", [matmul, Const("matmul.b", randn(5, generator: g))]);
        var sum = b.Node("Add", "sum", [gemm, bias]);
        var softmax = b.Node("Softmax", "softmax", [sum], OnnxProto.Int("axis", 1));
        var output = b.Node("Mul", "scale", [softmax, b.Scalar("ten", 10f)]);

        var model = b.Build("operator-zoo",
            OnnxProto.TensorValue("x", OnnxProto.FloatType, [(null, "batch"), (3, null), (16, null), (16, null)]),
            OnnxProto.TensorValue("y", OnnxProto.FloatType, [(null, "batch"), (5, null)]), output);
        model.Graph.Initializer.AddRange(int64s);
        model.IrVersion = opset <= 8 ? 3 : opset <= 10 ? 5 : opset <= 12 ? 6 : 7;
        return model;
    }
}
