using Google.Protobuf;
using Onnx;

namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>Operations on whole ONNX models.</summary>
public static class OnnxModels
{
    /// <summary>
    /// An imported backbone as <c>import</c> ships it: re-exported from the module (its weights, a dynamic batch axis, whatever
    /// batch the source graph declared) and ending in features [N, D] (<see cref="FlattenPooledOutput"/>). The module is run once,
    /// in evaluation mode, to read its output's rank.
    /// </summary>
    public static ModelProto ShippedBackbone(OnnxGraphModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        module.eval();   // the probe must not move BatchNorm running statistics
        var proto = module.ToModelProto();
        int probeSide = module.MinInputSize > Backbones.BackboneZoo.MinInputSize ? module.MinInputSize : 64;
        using var noGrad = TorchSharp.torch.no_grad();
        using var features = module.forward(TorchSharp.torch.zeros(1, 3, probeSide, probeSide));
        FlattenPooledOutput(proto, (int)features.dim(), module.FeatureDim);
        return proto;
    }

    /// <summary>
    /// Ends a backbone graph whose output is a pooled map [N, D, 1, 1] with a Flatten, so that its
    /// output is [N, D] like every backbone EdgeTL exports (<paramref name="featureDim"/> = D). The
    /// model is changed in place; a graph whose output is already [N, D] is left as it is.
    /// </summary>
    /// <param name="model">The backbone graph (one output).</param>
    /// <param name="outputRank">The rank its output has (from running it once): 4 gets the Flatten, 2 nothing.</param>
    /// <param name="featureDim">D.</param>
    public static void FlattenPooledOutput(ModelProto model, int outputRank, long featureDim)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (outputRank == 2)
            return;
        if (outputRank != 4 || model.Graph.Output.Count != 1)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidOnnxModel,
                $"Only a single [N, D, 1, 1] or [N, D] output can end a backbone; this graph has {model.Graph.Output.Count} output(s) of rank {outputRank}.");
        var graph = model.Graph;
        string pooled = graph.Output[0].Name, features = pooled + "_flat";
        var flatten = new NodeProto { Name = "edgetl_flatten_features", OpType = "Flatten" };
        flatten.Input.Add(pooled);
        flatten.Output.Add(features);
        flatten.Attribute.Add(OnnxProto.Int("axis", 1));
        graph.Node.Add(flatten);
        graph.Output.Clear();
        graph.Output.Add(OnnxProto.TensorValue(features, OnnxProto.FloatType, [(null, "batch"), (featureDim, null)]));
    }

    /// <summary>
    /// Chains two single-input models into one: <paramref name="first"/>'s output feeds
    /// <paramref name="second"/>'s input (e.g. a vendor's preprocessing graph in front of its
    /// backbone). Names of the second model are prefixed where they would collide. Both must
    /// use the default ONNX domain; the result takes the higher opset. Where both ends declare
    /// shapes, a first model whose output does not fit the second's input is refused, naming both.
    /// </summary>
    public static byte[] Chain(byte[] first, byte[] second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        var a = Parse(first, "first model");
        var b = Parse(second, "second model");
        var names = new HashSet<string>(a.Graph.Node.SelectMany(n => n.Output).Concat(a.Graph.Initializer.Select(i => i.Name)).Concat(a.Graph.Input.Select(i => i.Name)), StringComparer.Ordinal);
        var bInputInfo = b.Graph.Input.Single(i => b.Graph.Initializer.All(t => t.Name != i.Name));
        string bInput = bInputInfo.Name;
        string aOutput = a.Graph.Output[0].Name;
        RequireFit(a.Graph.Output[0], bInputInfo);
        string Rename(string name) => name.Length == 0 ? name : name == bInput ? aOutput : names.Contains(name) ? "chained/" + name : name;

        var graph = a.Graph.Clone();
        graph.Name = string.IsNullOrEmpty(b.Graph.Name) ? a.Graph.Name : b.Graph.Name;
        graph.Output.Clear();
        foreach (var t in b.Graph.Initializer)
        {
            var copy = t.Clone();
            copy.Name = Rename(t.Name);
            graph.Initializer.Add(copy);
        }
        foreach (var n in b.Graph.Node)
        {
            var copy = n.Clone();
            copy.Input.Clear();
            copy.Input.AddRange(n.Input.Select(Rename));
            copy.Output.Clear();
            copy.Output.AddRange(n.Output.Select(Rename));
            graph.Node.Add(copy);
        }
        foreach (var o in b.Graph.Output)
        {
            var copy = o.Clone();
            copy.Name = Rename(o.Name);
            graph.Output.Add(copy);
        }
        var model = new ModelProto { IrVersion = Math.Max(a.IrVersion, b.IrVersion), ProducerName = "EdgeTL (chained)", Graph = graph };
        long opset = Math.Max(Opset(a), Opset(b));
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model.ToByteArray();
    }

    /// <summary>Where both ends declare a shape, the first model's output must be what the second takes: same rank, same fixed sizes.</summary>
    private static void RequireFit(ValueInfoProto output, ValueInfoProto input)
    {
        var produced = output.Type?.TensorType?.Shape?.Dim;
        var taken = input.Type?.TensorType?.Shape?.Dim;
        if (produced is null || taken is null || produced.Count == 0 || taken.Count == 0)
            return;
        bool fits = produced.Count == taken.Count && produced.Zip(taken).All(d =>
            d.First.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue
            || d.Second.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue
            || d.First.DimValue == d.Second.DimValue);
        if (!fits)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidOnnxModel,
                $"The preprocessing graph's output '{output.Name}' is {Describe(produced)}, but the backbone's input '{input.Name}' takes {Describe(taken)}: they do not fit.");
    }

    private static string Describe(IEnumerable<TensorShapeProto.Types.Dimension> dims) =>
        "[" + string.Join(", ", dims.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue
            ? d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : string.IsNullOrEmpty(d.DimParam) ? "?" : d.DimParam)) + "]";

    private static long Opset(ModelProto m) => m.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();

    private static ModelProto Parse(byte[] bytes, string what)
    {
        try
        {
            var model = ModelProto.Parser.ParseFrom(bytes);
            if (model.Graph is null || model.Graph.Output.Count == 0)
                throw new EdgeTrainerException(TrainerErrorCode.InvalidOnnxModel, $"The {what} has no graph or no output.");
            return model;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new EdgeTrainerException(TrainerErrorCode.InvalidOnnxModel, $"The {what} is not an ONNX protobuf: {e.Message}", e);
        }
    }
}
