using Onnx;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>Accumulates nodes and initializers with unique names, then assembles a <see cref="ModelProto"/>.</summary>
internal sealed class OnnxGraphBuilder
{
    private readonly List<NodeProto> _nodes = [];
    private readonly List<TensorProto> _initializers = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _counter;

    public OnnxGraphBuilder(int opset) => Opset = opset;

    public int Opset { get; }

    /// <summary>Adds a float initializer named after the parameter's state-dict key.</summary>
    public string Initializer(string name, Tensor value)
    {
        name = Unique(name);
        _initializers.Add(OnnxProto.FloatTensor(name, value));
        return name;
    }

    /// <summary>Adds a float scalar initializer (Clip bounds and the like).</summary>
    public string Scalar(string name, float value)
    {
        name = Unique(name);
        _initializers.Add(OnnxProto.FloatTensor(name, [value]));
        return name;
    }

    /// <summary>Adds a node and returns its single output's name.</summary>
    public string Node(string opType, string scope, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        string name = Unique(string.IsNullOrEmpty(scope) ? opType : $"{scope}/{opType}");
        string output = Unique(name + ":0");
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        _nodes.Add(node);
        return output;
    }

    /// <summary>Assembles the model; <paramref name="input"/> and <paramref name="output"/> describe the graph's ends.</summary>
    public ModelProto Build(string graphName, ValueInfoProto input, ValueInfoProto output, string lastValue)
    {
        // Rename the last value to the declared output name with an Identity-free rewrite.
        foreach (var node in _nodes)
        {
            for (int i = 0; i < node.Output.Count; i++)
            {
                if (node.Output[i] == lastValue)
                    node.Output[i] = output.Name;
            }
            for (int i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i] == lastValue)
                    node.Input[i] = output.Name;
            }
        }
        var graph = new GraphProto { Name = graphName };
        graph.Input.Add(input);
        graph.Output.Add(output);
        graph.Node.AddRange(_nodes);
        graph.Initializer.AddRange(_initializers);
        var model = new ModelProto
        {
            IrVersion = Opset <= 14 ? 7 : 8,
            ProducerName = "EdgeTL",
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    private string Unique(string name)
    {
        if (_names.Add(name))
            return name;
        string candidate;
        do
        {
            candidate = $"{name}_{++_counter}";
        }
        while (!_names.Add(candidate));
        return candidate;
    }
}
