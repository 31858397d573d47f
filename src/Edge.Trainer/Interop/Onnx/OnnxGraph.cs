using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>
/// A parsed and validated ONNX graph: initializers as tensors, constants, and each node
/// compiled to a kernel. It can run itself on plain tensors (to probe shapes) and is the
/// raw material of an <see cref="OnnxGraphModule"/>.
/// </summary>
internal sealed class OnnxGraph
{
    private OnnxGraph(ModelProto model, string source)
    {
        Model = model;
        Source = source;
    }

    public ModelProto Model { get; }

    public string Source { get; }

    public int Opset { get; private set; }

    public string InputName { get; private set; } = "";

    /// <summary>Declared input dims; null for a dynamic axis.</summary>
    public long?[] InputDims { get; private set; } = [];

    public string GraphOutput { get; private set; } = "";

    public Dictionary<string, Tensor> Initializers { get; } = new(StringComparer.Ordinal);

    public List<(NodeProto Node, OnnxKernel Kernel, string Context, int Index)> Nodes { get; } = [];

    /// <summary>Parses and validates; corrupt files, bad graphs and unsupported operators give typed errors.</summary>
    public static OnnxGraph Parse(byte[] bytes, string source)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Invalid(source, $"it is not an ONNX protobuf (corrupt or truncated: {e.Message})");
        }
        var graph = new OnnxGraph(model, source);
        graph.Validate();
        return graph;
    }

    /// <summary>Runs <paramref name="nodes"/> (all when null) on <paramref name="input"/> and returns every value, initializers included.</summary>
    public Dictionary<string, Tensor> Run(Tensor input, IReadOnlySet<int>? nodes = null)
    {
        var values = new Dictionary<string, Tensor>(Initializers, StringComparer.Ordinal) { [InputName] = input };
        for (int i = 0; i < Nodes.Count; i++)
        {
            if (nodes is not null && !nodes.Contains(i))
                continue;
            var (node, kernel, context, _) = Nodes[i];
            var inputs = node.Input.Select(n => n.Length == 0 ? null : values[n]).ToArray();
            var outputs = Execute(kernel, inputs, new OnnxKernelContext(false), context);
            for (int o = 0; o < node.Output.Count && o < outputs.Length; o++)
            {
                if (node.Output[o].Length > 0)
                    values[node.Output[o]] = outputs[o];
            }
        }
        return values;
    }

    /// <summary>Runs one kernel, turning TorchSharp's shape errors into an error that names the node.</summary>
    public static Tensor[] Execute(OnnxKernel kernel, Tensor?[] inputs, OnnxKernelContext kernelContext, string context)
    {
        try
        {
            return kernel(inputs, kernelContext);
        }
        catch (Exception e) when (e is ExternalException or ArgumentException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape,
                $"{context} failed on inputs {string.Join(", ", inputs.Select(t => t is null ? "∅" : OnnxAttributes.Format(t.shape)))}: {e.Message}", e);
        }
    }

    /// <summary>Indices of the nodes <paramref name="output"/> depends on, in graph order.</summary>
    public SortedSet<int> NodesFor(string output)
    {
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Nodes.Count; i++)
        {
            foreach (var o in Nodes[i].Node.Output.Where(o => o.Length > 0))
                producer[o] = i;
        }
        if (!producer.ContainsKey(output) && output != InputName)
            throw Invalid(Source, $"no node produces the value '{output}'");
        var needed = new SortedSet<int>();
        var pending = new Stack<string>([output]);
        while (pending.Count > 0)
        {
            if (!producer.TryGetValue(pending.Pop(), out int index) || !needed.Add(index))
                continue;
            foreach (var i in Nodes[index].Node.Input.Where(i => i.Length > 0))
                pending.Push(i);
        }
        return needed;
    }

    private void Validate()
    {
        var graph = Model.Graph;
        if (graph is null || graph.Node.Count == 0)
            throw Invalid(Source, "it has no graph or no nodes");
        var opsets = Model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").ToList();
        if (opsets.Count == 0)
            throw Invalid(Source, "it imports no default-domain opset");
        Opset = (int)opsets.Max(o => o.Version);
        if (Opset is < OnnxImportOptions.MinOpset or > OnnxImportOptions.MaxOpset)
            throw new EdgeTrainerException(TrainerErrorCode.UnsupportedOnnxOperator,
                $"{Source}: opset {Opset} is not supported; the importer reads opsets {OnnxImportOptions.MinOpset} to {OnnxImportOptions.MaxOpset}.");

        foreach (var t in graph.Initializer)
        {
            if (t.DataLocation == TensorProto.Types.DataLocation.External)
                throw new EdgeTrainerException(TrainerErrorCode.UnsupportedOnnxOperator,
                    $"{Source}: initializer '{t.Name}' is stored in an external data file, which the importer does not read.");
            Initializers[t.Name] = ToTensor(t, $"{Source} initializer '{t.Name}'");
        }
        var inputs = graph.Input.Where(i => !Initializers.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1)
            throw Invalid(Source, $"expected one graph input, found {inputs.Count} ({string.Join(", ", inputs.Select(i => i.Name))})");
        InputName = inputs[0].Name;
        var dims = inputs[0].Type?.TensorType?.Shape?.Dim;
        InputDims = dims is null ? [] : [.. dims.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue > 0 ? (long?)d.DimValue : null)];
        if (graph.Output.Count == 0)
            throw Invalid(Source, "it declares no output");
        GraphOutput = graph.Output[0].Name;

        var known = new HashSet<string>(Initializers.Keys, StringComparer.Ordinal) { InputName };
        for (int i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            string context = $"{Source}: node {i} '{node.Name}' ({node.OpType})";
            if (node.Domain is not ("" or "ai.onnx"))
                throw new EdgeTrainerException(TrainerErrorCode.UnsupportedOnnxOperator,
                    $"{context}: operator domain '{node.Domain}' is not supported (only the default ONNX domain).");
            foreach (var input in node.Input.Where(n => n.Length > 0))
            {
                if (!known.Contains(input))
                    throw Invalid(Source, $"node {i} '{node.Name}' ({node.OpType}) reads '{input}', which no earlier node produces (graph not in topological order?)");
            }
            var attributes = new OnnxAttributes(node, context);
            if (node.OpType == "Constant")
            {
                Initializers[node.Output[0]] = ConstantValue(attributes, context);
            }
            else
            {
                var kernel = OnnxOperators.Compile(node, Opset, attributes, name => Initializers.TryGetValue(name, out var t) && !t.is_floating_point() ? IntValues(t) : null);
                Nodes.Add((node, kernel, context, i));
            }
            foreach (var output in node.Output.Where(n => n.Length > 0))
                known.Add(output);
        }
        if (!known.Contains(GraphOutput))
            throw Invalid(Source, $"no node produces the graph output '{GraphOutput}'");
    }

    private static long[] IntValues(Tensor t)
    {
        using var cpu = t.to(ScalarType.Int64);
        return cpu.data<long>().ToArray();
    }

    private static Tensor ConstantValue(OnnxAttributes a, string context)
    {
        if (a.Tensor("value") is { } t)
            return ToTensor(t, context);
        if (a.Has("value_float"))
            return tensor(a.Float("value_float", 0));
        if (a.Floats("value_floats") is { } fs)
            return tensor(fs);
        if (a.Has("value_int"))
            return tensor(a.Int("value_int", 0));
        if (a.Ints("value_ints") is { } ls)
            return tensor(ls);
        throw a.Unsupported("a Constant without a tensor, float or int value");
    }

    /// <summary>A tensor proto as a TorchSharp tensor (floats as float32, integers as int64).</summary>
    public static Tensor ToTensor(TensorProto t, string context)
    {
        long[] dims = [.. t.Dims];
        return (TensorProto.Types.DataType)t.DataType switch
        {
            TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Int32 => tensor(OnnxProto.ReadInt64s(t, context)).reshape(dims),
            _ => tensor(OnnxProto.ReadFloats(t, context)).reshape(dims),
        };
    }

    private static EdgeTrainerException Invalid(string source, string detail) =>
        new(TrainerErrorCode.InvalidOnnxModel, $"{source} is not a usable ONNX model: {detail}.");
}
