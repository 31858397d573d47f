using Google.Protobuf;
using Onnx;

namespace EdgeTL.Runtime.Tests.Onnx;

/// <summary>Small ONNX models written in code with fixed seeded weights, for Edge.Runtime's tests.</summary>
internal static class TinyModels
{
    /// <summary>
    /// A small CNN backbone: Conv3×3/2 (16) → ReLU → Conv3×3/2 (32) → ReLU → GlobalAveragePool →
    /// Flatten, with seeded He-normal weights: [N, 3, H, W] → [N, 32]. Dynamic batch.
    /// </summary>
    public static byte[] Backbone(int seed = 1)
    {
        var random = new Random(seed);
        var graph = new GraphProto { Name = "tiny-cnn" };
        graph.Input.Add(Value("images", [null, 3, null, null]));
        graph.Output.Add(Value("features", [null, 32]));
        graph.Initializer.Add(Tensor("w1", Normal(random, 16 * 3 * 9, Math.Sqrt(2.0 / 27)), 16, 3, 3, 3));
        graph.Initializer.Add(Tensor("b1", Normal(random, 16, 0.1), 16));
        graph.Initializer.Add(Tensor("w2", Normal(random, 32 * 16 * 9, Math.Sqrt(2.0 / 144)), 32, 16, 3, 3));
        graph.Initializer.Add(Tensor("b2", Normal(random, 32, 0.1), 32));
        graph.Node.Add(Conv("images", "w1", "b1", "c1"));
        graph.Node.Add(Node("Relu", ["c1"], "r1"));
        graph.Node.Add(Conv("r1", "w2", "b2", "c2"));
        graph.Node.Add(Node("Relu", ["c2"], "r2"));
        graph.Node.Add(Node("GlobalAveragePool", ["r2"], "gap"));
        graph.Node.Add(Node("Flatten", ["gap"], "features"));
        return Model(graph);
    }

    /// <summary>A linear head [N, inputs] → [N, classes] (Gemm) with seeded weights.</summary>
    public static byte[] Head(int inputs, int classes, int seed = 2)
    {
        var random = new Random(seed);
        var graph = new GraphProto { Name = "tiny-head" };
        graph.Input.Add(Value("features", [null, inputs]));
        graph.Output.Add(Value("logits", [null, classes]));
        graph.Initializer.Add(Tensor("w", Normal(random, classes * inputs, 1.0), classes, inputs));
        graph.Initializer.Add(Tensor("b", Normal(random, classes, 0.1), classes));
        var gemm = Node("Gemm", ["features", "w", "b"], "logits");
        gemm.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(gemm);
        return Model(graph);
    }

    private static byte[] Model(GraphProto graph)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "EdgeTL tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model.ToByteArray();
    }

    private static NodeProto Conv(string x, string w, string b, string y)
    {
        var node = Node("Conv", [x, w, b], y);
        node.Attribute.Add(new AttributeProto { Name = "strides", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 2, 2 } });
        node.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        return node;
    }

    private static NodeProto Node(string op, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        return node;
    }

    private static ValueInfoProto Value(string name, long?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is long v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = "n" });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }

    private static TensorProto Tensor(string name, float[] values, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = 1 };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(values);
        return t;
    }

    private static float[] Normal(Random random, int count, double std) =>
        [.. Enumerable.Range(0, count).Select(_ => (float)(std * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))];
}
