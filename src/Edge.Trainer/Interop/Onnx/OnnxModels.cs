using Google.Protobuf;
using Onnx;

namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>Operations on whole ONNX models.</summary>
public static class OnnxModels
{
    /// <summary>
    /// Chains two single-input models into one: <paramref name="first"/>'s output feeds
    /// <paramref name="second"/>'s input (e.g. a vendor's preprocessing graph in front of its
    /// backbone). Names of the second model are prefixed where they would collide. Both must
    /// use the default ONNX domain; the result takes the higher opset.
    /// </summary>
    public static byte[] Chain(byte[] first, byte[] second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        var a = Parse(first, "first model");
        var b = Parse(second, "second model");
        var names = new HashSet<string>(a.Graph.Node.SelectMany(n => n.Output).Concat(a.Graph.Initializer.Select(i => i.Name)).Concat(a.Graph.Input.Select(i => i.Name)), StringComparer.Ordinal);
        string bInput = b.Graph.Input.Single(i => b.Graph.Initializer.All(t => t.Name != i.Name)).Name;
        string aOutput = a.Graph.Output[0].Name;
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
