using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace EdgeTL.Trainer.Interop.Onnx.Quantization;

/// <summary>Settings of <see cref="OnnxQuantizer.Quantize"/>.</summary>
public sealed record QuantizationOptions
{
    /// <summary>How activation ranges are chosen from the calibration images.</summary>
    public CalibrationMethod Method { get; init; } = CalibrationMethod.MinMax;

    /// <summary>For <see cref="CalibrationMethod.Percentile"/>: the share of magnitudes kept unclipped, in percent.</summary>
    public double Percentile { get; init; } = 99.99;

    /// <summary>Magnitude bins per activation for percentile and entropy calibration.</summary>
    public int HistogramBins { get; init; } = 2048;
}

/// <summary>What <see cref="OnnxQuantizer.Quantize"/> produced.</summary>
/// <param name="Model">The QDQ model (ONNX protobuf bytes).</param>
/// <param name="QuantizedNodes">Convolutions and matrix products with int8 weights.</param>
/// <param name="QuantizedActivations">Activations quantized to uint8, each with its calibrated range.</param>
/// <param name="CalibrationImages">Images calibration ran on.</param>
public sealed record QuantizedModel(byte[] Model, int QuantizedNodes, IReadOnlyDictionary<string, (double Low, double High)> QuantizedActivations, int CalibrationImages);

/// <summary>
/// Calibrated static int8 quantization of an fp32 ONNX model into the QDQ form that ONNX Runtime fuses into
/// integer kernels (QLinearConv, QLinearAdd, …) and TensorRT builds INT8 engines from:
/// <list type="bullet">
/// <item>ONNX Runtime's basic graph optimizations run first, so BatchNorm is folded into the convolutions and constants are folded;</item>
/// <item>weights of Conv, Gemm and MatMul become int8, symmetric, one scale per output channel; biases int32 at the product of scales;</item>
/// <item>every activation that feeds a Conv, Gemm, MatMul, Add, MaxPool, AveragePool or GlobalAveragePool gets a QuantizeLinear /
/// DequantizeLinear pair (uint8, asymmetric, one range per tensor) from the calibration images. A Relu between a convolution and such
/// a pair is absorbed by ONNX Runtime (its range starts at 0), so the convolution's output is quantized in effect.</item>
/// </list>
/// A node that cannot be quantized (a weight that is not a constant) is a typed error that names it.
/// </summary>
public static class OnnxQuantizer
{
    private static readonly HashSet<string> WeightedOps = ["Conv", "Gemm", "MatMul"];
    private static readonly HashSet<string> QuantizedInputOps = ["Conv", "Gemm", "MatMul", "Add", "MaxPool", "AveragePool", "GlobalAveragePool"];
    private const int MinimumOpset = 13;   // per-channel DequantizeLinear (axis)

    /// <summary>
    /// Quantizes <paramref name="fp32Model"/> (one float input) with activation ranges from <paramref name="calibration"/>: batches of
    /// preprocessed images, values and shape, as the model takes them.
    /// </summary>
    public static QuantizedModel Quantize(byte[] fp32Model, IEnumerable<(float[] Values, int[] Shape)> calibration, QuantizationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(fp32Model);
        ArgumentNullException.ThrowIfNull(calibration);
        options ??= new QuantizationOptions();
        var batches = calibration.ToList();
        if (batches.Count == 0 || batches.Sum(b => b.Shape.Length > 0 ? b.Shape[0] : 0) == 0)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, "Quantization needs calibration images; none were given.");
        for (int b = 0; b < batches.Count; b++)
        {
            int bad = Array.FindIndex(batches[b].Values, v => !float.IsFinite(v));
            if (bad >= 0)
                throw new EdgeTrainerException(TrainerErrorCode.NonFiniteInput,
                    $"Calibration batch {b} holds {batches[b].Values[bad]} at value {bad}: calibration images must be finite (a corrupt or unnormalized input).");
        }

        var model = Parse(Optimize(fp32Model));
        long opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        if (opset < MinimumOpset)
            RaiseOpset(model, opset);
        var graph = model.Graph;
        var constants = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var node in graph.Node.Where(n => WeightedOps.Contains(n.OpType)))
        {
            if (node.Input.Count < 2 || !constants.ContainsKey(node.Input[1]))
                throw new EdgeTrainerException(TrainerErrorCode.UnsupportedOnnxOperator,
                    $"Node '{NodeName(node)}' ({node.OpType}) cannot be quantized: its weight '{(node.Input.Count > 1 ? node.Input[1] : "?")}' is not a constant of the model.");
        }

        // Activations to quantize: the non-constant inputs of the ops that run in int8.
        var activations = graph.Node.Where(n => QuantizedInputOps.Contains(n.OpType))
            .SelectMany(n => n.OpType is "Conv" or "Gemm" or "MatMul" ? n.Input.Take(1) : n.Input)
            .Where(name => name.Length > 0 && !constants.ContainsKey(name))
            .Distinct(StringComparer.Ordinal).ToList();
        var ranges = Calibrate(model, activations, batches, options);

        var scales = new Dictionary<string, float>(StringComparer.Ordinal);
        var newNodes = new List<NodeProto>();
        foreach (var name in activations)
        {
            var (low, high) = ranges[name];
            float scale = (float)Math.Max((high - low) / 255, 1e-8);
            byte zeroPoint = (byte)Math.Clamp(Math.Round(-low / scale), 0, 255);
            scales[name] = scale;
            graph.Initializer.Add(OnnxProto.FloatTensor(name + "_scale", [scale]));
            graph.Initializer.Add(UInt8Scalar(name + "_zero_point", zeroPoint));
            newNodes.Add(Node("QuantizeLinear", name + "_quantize", [name, name + "_scale", name + "_zero_point"], name + "_quantized"));
            newNodes.Add(Node("DequantizeLinear", name + "_dequantize", [name + "_quantized", name + "_scale", name + "_zero_point"], name + "_dequantized"));
        }
        int weighted = 0;
        foreach (var node in graph.Node.ToList())
        {
            if (!QuantizedInputOps.Contains(node.OpType))
                continue;
            for (int i = 0; i < node.Input.Count; i++)
            {
                if (scales.ContainsKey(node.Input[i]) && (i == 0 || !WeightedOps.Contains(node.OpType)))
                    node.Input[i] = node.Input[i] + "_dequantized";
            }
            if (WeightedOps.Contains(node.OpType))
            {
                QuantizeWeights(graph, node, constants, scales[node.Input[0][..^"_dequantized".Length]], newNodes);
                weighted++;
            }
        }
        // Q/DQ pairs and weight dequantizations go first: ONNX needs a topological order, and their inputs
        // are graph inputs, constants, or outputs of nodes they are placed after below.
        Insert(graph, newNodes);
        // The fp32 weights the int8 copies replaced: dropped, so the file holds each weight once.
        var used = graph.Node.SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (var unused in graph.Initializer.Where(t => !used.Contains(t.Name)).ToList())
            graph.Initializer.Remove(unused);
        model.ProducerName = "EdgeTL (int8 QDQ)";
        return new QuantizedModel(model.ToByteArray(), weighted, ranges, batches.Sum(b => b.Shape[0]));
    }

    /// <summary>
    /// Ops whose meaning is the same from opset 7 to 13 (broadcasting arithmetic, convolution and pooling, flattening, matrix
    /// products), so an older model made only of them (ML.NET's CNTK export is opset 8) can be declared opset 13, which per-channel
    /// DequantizeLinear needs.
    /// </summary>
    private static readonly HashSet<string> SameSinceOpset7 =
        ["Conv", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "Add", "Sub", "Mul", "Div", "Flatten", "Gemm", "MatMul", "Concat", "Identity", "Sigmoid", "Clip", "Split"];

    private static void RaiseOpset(ModelProto model, long opset)
    {
        // Split took its sizes as an attribute until opset 13, then as an input.
        foreach (var split in model.Graph.Node.Where(n => n.OpType == "Split"))
        {
            if (split.Attribute.FirstOrDefault(a => a.Name == "split") is not { } sizes)
                continue;
            string name = $"{NodeName(split)}_split_sizes";
            model.Graph.Initializer.Add(OnnxProto.Int64Tensor(name, [.. sizes.Ints]));
            split.Attribute.Remove(sizes);
            split.Input.Add(name);
        }
        var other = model.Graph.Node.Select(n => n.OpType).Where(op => !SameSinceOpset7.Contains(op)).Distinct(StringComparer.Ordinal).ToList();
        // Clip took its range as attributes until opset 11; Clip nodes with attributes cannot simply be relabelled.
        var clip = model.Graph.Node.FirstOrDefault(n => n.OpType == "Clip" && n.Attribute.Count > 0);
        if (other.Count > 0 || clip is not null || opset < 7)
            throw new EdgeTrainerException(TrainerErrorCode.UnsupportedOnnxOperator,
                $"The model uses opset {opset}; int8 quantization with one scale per channel needs opset {MinimumOpset}, and {(clip is not null ? $"node '{NodeName(clip)}' (Clip with attributes)" : $"its {string.Join(", ", other)} node(s)")} changed meaning since: export the model at opset {MinimumOpset} or later.");
        model.OpsetImport.Single(o => o.Domain is "" or "ai.onnx").Version = MinimumOpset;
        if (model.IrVersion < 7)
            model.IrVersion = 7;
    }

    /// <summary>ONNX Runtime's basic, hardware-independent optimizations (BatchNorm folding, constant folding), written back as ONNX.</summary>
    private static byte[] Optimize(byte[] model)
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgetl-quantize-{Guid.NewGuid():N}.onnx");
        try
        {
            using (var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC, OptimizedModelFilePath = path, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR })
            using (new InferenceSession(model, options))
            {
            }
            return File.ReadAllBytes(path);
        }
        catch (OnnxRuntimeException e)
        {
            throw new EdgeTrainerException(TrainerErrorCode.InvalidOnnxModel, $"ONNX Runtime cannot load the model to quantize: {e.Message}", e);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Runs the fp32 model on the calibration batches with every activation as an output; returns each one's range.</summary>
    private static Dictionary<string, (double Low, double High)> Calibrate(ModelProto model, List<string> activations, List<(float[] Values, int[] Shape)> batches, QuantizationOptions options)
    {
        var probe = model.Clone();
        var outputs = new HashSet<string>(probe.Graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        foreach (var name in activations.Where(a => !outputs.Contains(a)))
            probe.Graph.Output.Add(new ValueInfoProto { Name = name });
        using var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(probe.ToByteArray(), sessionOptions);
        string input = session.InputMetadata.Keys.Single(k => !probe.Graph.Initializer.Any(t => t.Name == k));
        var seen = activations.ToDictionary(a => a, _ => (Min: double.PositiveInfinity, Max: double.NegativeInfinity), StringComparer.Ordinal);
        List<Dictionary<string, float[]>>? kept = options.Method == CalibrationMethod.MinMax ? null : [];
        // A graph with a fixed batch size (ML.NET's takes one image at a time) gets the batches cut to it.
        int fixedBatch = session.InputMetadata[input].Dimensions is [> 0 and var b, ..] ? b : 0;
        foreach (var (values, shape) in batches.SelectMany(batch => fixedBatch > 0 ? Cut(batch, fixedBatch) : [batch]))
        {
            var run = Run(session, input, values, shape, activations);
            foreach (var (name, data) in run)
            {
                var (min, max) = seen[name];
                foreach (float v in data)
                {
                    if (!float.IsFinite(v))
                        throw new EdgeTrainerException(TrainerErrorCode.NonFiniteInput, $"Calibration produced a non-finite value in '{name}': check the calibration images and the model.");
                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                }
                seen[name] = (min, max);
            }
            kept?.Add(run);
        }
        var ranges = new Dictionary<string, (double, double)>(StringComparer.Ordinal);
        // A Clip's output (ReLU6) saturates at its bound on purpose: many values sit exactly there, and the entropy criterion, which
        // weighs the dense bulk near 0, would clip them to a fraction of it (a quarter of ReLU6's range in mobilenet_v2's first
        // block, which cost 32 points). Its bound is the range; only the unbounded tensors are entropy-calibrated.
        var clipped = model.Graph.Node.Where(n => n.OpType == "Clip").SelectMany(n => n.Output).ToHashSet(StringComparer.Ordinal);
        foreach (var name in activations)
        {
            var range = new ActivationRange(seen[name].Min, seen[name].Max, options.HistogramBins);
            foreach (var run in kept ?? [])
                range.Add(run[name]);
            var method = options.Method == CalibrationMethod.Entropy && clipped.Contains(name) ? CalibrationMethod.MinMax : options.Method;
            ranges[name] = range.Range(method, options.Percentile);
        }
        return ranges;
    }

    private static IEnumerable<(float[] Values, int[] Shape)> Cut((float[] Values, int[] Shape) batch, int size)
    {
        if (batch.Shape.Length == 0 || batch.Shape[0] % size != 0)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape, $"The model takes batches of {size}; a calibration batch of {(batch.Shape.Length > 0 ? batch.Shape[0] : 0)} does not divide into them.");
        int per = batch.Values.Length / batch.Shape[0] * size;
        for (int start = 0; start < batch.Values.Length; start += per)
            yield return (batch.Values[start..(start + per)], [size, .. batch.Shape[1..]]);
    }

    private static Dictionary<string, float[]> Run(InferenceSession session, string input, float[] values, int[] shape, List<string> names)
    {
        long count = shape.Aggregate(1L, (a, d) => a * d);
        if (count != values.Length || shape.Any(d => d < 1))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape, $"A calibration batch of shape [{string.Join(", ", shape)}] does not hold its {values.Length} values.");
        try
        {
            using var tensor = OrtValue.CreateTensorValueFromMemory(values, [.. shape.Select(d => (long)d)]);
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, [input], [tensor], names);
            return names.Select((n, i) => (n, results[i].GetTensorDataAsSpan<float>().ToArray())).ToDictionary(p => p.n, p => p.Item2, StringComparer.Ordinal);
        }
        catch (OnnxRuntimeException e)
        {
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape, $"The model refused a calibration batch of shape [{string.Join(", ", shape)}]: {e.Message}", e);
        }
    }

    /// <summary>Replaces the node's weight (and bias) with int8 (int32) constants and their per-channel dequantization.</summary>
    private static void QuantizeWeights(GraphProto graph, NodeProto node, Dictionary<string, TensorProto> constants, float inputScale, List<NodeProto> newNodes)
    {
        var weight = constants[node.Input[1]];
        float[] w = OnnxProto.ReadFloats(weight, $"weight of '{NodeName(node)}'");
        long[] dims = [.. weight.Dims];
        // The output channel: Conv [O, I, kh, kw] and Gemm with transB [N, K] keep it on axis 0; MatMul and Gemm without transB on axis 1.
        bool transB = node.Attribute.Any(a => a.Name == "transB" && a.I == 1);
        int axis = node.OpType == "Conv" || (node.OpType == "Gemm" && transB) ? 0 : 1;
        if (dims.Length < 2)
            throw new EdgeTrainerException(TrainerErrorCode.UnsupportedOnnxOperator, $"Node '{NodeName(node)}' ({node.OpType}) cannot be quantized: its weight has rank {dims.Length}.");
        int channels = (int)dims[axis];
        long inner = dims.Skip(axis + 1).Aggregate(1L, (a, d) => a * d);
        var scales = new float[channels];
        for (long i = 0; i < w.Length; i++)
        {
            int c = (int)(i / inner % channels);
            scales[c] = Math.Max(scales[c], Math.Abs(w[i]));
        }
        for (int c = 0; c < channels; c++)
            scales[c] = scales[c] > 0 ? scales[c] / 127 : 1f;
        var q = new byte[w.Length];
        for (long i = 0; i < w.Length; i++)
            q[i] = unchecked((byte)(sbyte)Math.Clamp(Math.Round(w[i] / scales[(int)(i / inner % channels)]), -127, 127));

        string name = node.Input[1];
        graph.Initializer.Add(Int8Tensor(name + "_quantized", q, dims));
        graph.Initializer.Add(OnnxProto.FloatTensor(name + "_scale", scales, channels));
        graph.Initializer.Add(Int8Tensor(name + "_zero_point", new byte[channels], channels));
        newNodes.Add(Node("DequantizeLinear", name + "_dequantize", [name + "_quantized", name + "_scale", name + "_zero_point"], name + "_dequantized", axis));
        node.Input[1] = name + "_dequantized";

        int biasInput = node.OpType is "Conv" or "Gemm" ? 2 : -1;
        if (biasInput > 0 && node.Input.Count > biasInput && constants.TryGetValue(node.Input[biasInput], out var bias) && bias.Dims.Count == 1 && bias.Dims[0] == channels)
        {
            float[] b = OnnxProto.ReadFloats(bias, $"bias of '{NodeName(node)}'");
            var biasScales = scales.Select(s => s * inputScale).ToArray();
            var qb = new byte[channels * 4];
            for (int c = 0; c < channels; c++)
                BitConverter.TryWriteBytes(qb.AsSpan(c * 4), (int)Math.Clamp(Math.Round(b[c] / biasScales[c]), int.MinValue, int.MaxValue));
            string biasName = node.Input[biasInput];
            var quantizedBias = new TensorProto { Name = biasName + "_quantized", DataType = (int)TensorProto.Types.DataType.Int32, RawData = ByteString.CopyFrom(qb) };
            quantizedBias.Dims.Add(channels);
            graph.Initializer.Add(quantizedBias);
            graph.Initializer.Add(OnnxProto.FloatTensor(biasName + "_scale", biasScales, channels));
            var zero = new TensorProto { Name = biasName + "_zero_point", DataType = (int)TensorProto.Types.DataType.Int32, RawData = ByteString.CopyFrom(new byte[channels * 4]) };
            zero.Dims.Add(channels);
            graph.Initializer.Add(zero);
            newNodes.Add(Node("DequantizeLinear", biasName + "_dequantize", [biasName + "_quantized", biasName + "_scale", biasName + "_zero_point"], biasName + "_dequantized", 0));
            node.Input[biasInput] = biasName + "_dequantized";
        }
    }

    /// <summary>Puts each new node right after the node that produces its first input (at the start for graph inputs and constants).</summary>
    private static void Insert(GraphProto graph, List<NodeProto> newNodes)
    {
        var byProducer = newNodes.GroupBy(n => n.Input[0], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var ordered = new List<NodeProto>();
        void Place(string produced)
        {
            if (!byProducer.Remove(produced, out var nodes))
                return;
            foreach (var n in nodes)
            {
                ordered.Add(n);
                Place(n.Output[0]);   // a DequantizeLinear right after its QuantizeLinear
            }
        }
        foreach (var input in graph.Input.Select(i => i.Name).Concat(graph.Initializer.Select(t => t.Name)).ToList())
            Place(input);
        foreach (var node in graph.Node)
        {
            ordered.Add(node);
            foreach (var output in node.Output)
                Place(output);
        }
        graph.Node.Clear();
        graph.Node.AddRange(ordered);
    }

    private static NodeProto Node(string op, string name, string[] inputs, string output, int? axis = null)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        if (axis is int a)
            node.Attribute.Add(OnnxProto.Int("axis", a));
        return node;
    }

    private static TensorProto Int8Tensor(string name, byte[] values, params long[] dims)
    {
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int8, RawData = ByteString.CopyFrom(values) };
        proto.Dims.AddRange(dims);
        return proto;
    }

    private static TensorProto UInt8Scalar(string name, byte value) =>
        new() { Name = name, DataType = (int)TensorProto.Types.DataType.Uint8, RawData = ByteString.CopyFrom(value) };

    private static string NodeName(NodeProto node) => string.IsNullOrEmpty(node.Name) ? $"{node.OpType} → {string.Join(", ", node.Output)}" : node.Name;

    private static ModelProto Parse(byte[] bytes)
    {
        try
        {
            return ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new EdgeTrainerException(TrainerErrorCode.InvalidOnnxModel, $"The model to quantize is not an ONNX protobuf: {e.Message}", e);
        }
    }
}
