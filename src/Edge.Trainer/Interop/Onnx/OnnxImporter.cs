using static TorchSharp.torch;

namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>
/// Turns an inference ONNX file of CNN operators (opsets 8 to 17) into a trainable
/// <see cref="OnnxGraphModule"/>, from the graph alone.
/// </summary>
public static class OnnxImporter
{
    private static readonly HashSet<string> PoolingOps = new(StringComparer.Ordinal) { "GlobalAveragePool", "GlobalMaxPool", "AveragePool", "ReduceMean" };

    /// <summary>Imports the whole graph (or up to <see cref="OnnxImportOptions.OutputName"/>).</summary>
    public static OnnxGraphModule Import(string path, OnnxImportOptions? options = null) =>
        Import(ReadFile(path), path, options);

    /// <summary>Imports a model held in memory; <paramref name="source"/> names it in errors.</summary>
    public static OnnxGraphModule Import(byte[] model, string source, OnnxImportOptions? options = null)
    {
        options ??= new OnnxImportOptions();
        var graph = OnnxGraph.Parse(model, source);
        string output = options.OutputName ?? graph.GraphOutput;
        return new OnnxGraphModule(graph, output, graph.NodesFor(output), options);
    }

    /// <summary>
    /// Imports the graph as a backbone: it ends at the last global pooling (the pooled
    /// features), so a classifier the file may carry is left out. Without pooling the graph
    /// output is used and flattened.
    /// </summary>
    public static OnnxGraphModule ImportBackbone(string path, OnnxImportOptions? options = null) =>
        ImportBackbone(ReadFile(path), path, options);

    /// <summary>As <see cref="ImportBackbone(string, OnnxImportOptions?)"/>, from memory.</summary>
    public static OnnxGraphModule ImportBackbone(byte[] model, string source, OnnxImportOptions? options = null)
    {
        options ??= new OnnxImportOptions();
        var graph = OnnxGraph.Parse(model, source);
        string output = options.OutputName ?? PooledFeatures(graph, options) ?? graph.GraphOutput;
        return new OnnxGraphModule(graph, output, graph.NodesFor(output), options);
    }

    /// <summary>The last pooling output that reduces a spatial map to 1×1, found by a probe run.</summary>
    private static string? PooledFeatures(OnnxGraph graph, OnnxImportOptions options)
    {
        if (graph.InputDims.Length != 4)
            return null;
        long side = graph.InputDims[2] ?? Math.Max(64, options.ProbeSize);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var values = graph.Run(zeros(1, graph.InputDims[1] ?? 3, side, graph.InputDims[3] ?? side));
        string? result = null;
        foreach (var (node, _, _, _) in graph.Nodes)
        {
            if (!PoolingOps.Contains(node.OpType) || !values.TryGetValue(node.Output[0], out var y) || !values.TryGetValue(node.Input[0], out var x))
                continue;
            if (y.dim() == 4 && y.shape[2] == 1 && y.shape[3] == 1 && x.dim() == 4 && x.shape[2] * x.shape[3] > 1)
                result = node.Output[0];
        }
        return result;
    }

    private static byte[] ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidOnnxModel, $"ONNX file '{path}' does not exist.");
        return File.ReadAllBytes(path);
    }
}
