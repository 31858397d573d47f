using Onnx;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>What a kernel may need beyond its inputs.</summary>
/// <param name="Training">True when the owning module is in training mode (BatchNormalization uses batch statistics).</param>
/// <param name="Momentum">Overrides BatchNormalization's running-statistics momentum (PyTorch convention), e.g. for recalibration.</param>
internal readonly record struct OnnxKernelContext(bool Training, double? Momentum = null);

/// <summary>Runs one ONNX node: resolved inputs (null for an omitted optional input) → outputs.</summary>
internal delegate Tensor[] OnnxKernel(Tensor?[] inputs, OnnxKernelContext context);

/// <summary>
/// The ONNX operators the importer turns into TorchSharp calls, for opsets 8 to 17. Each is
/// compiled once from its attributes; attribute and opset differences (Clip, Pad, Reshape,
/// Squeeze bounds as attributes or inputs) are resolved here.
/// </summary>
internal static class OnnxOperators
{
    /// <summary>Every operator type the importer supports.</summary>
    public static IReadOnlyList<string> Supported { get; } =
    [
        "Conv", "BatchNormalization", "Relu", "LeakyRelu", "Clip", "HardSigmoid", "HardSwish", "Sigmoid", "Tanh", "Softmax",
        "Add", "Sub", "Mul", "Div", "Sum", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Reshape",
        "Gemm", "MatMul", "Concat", "Pad", "ReduceMean", "Identity", "Dropout", "Shape", "Gather", "Unsqueeze", "Squeeze",
        "Cast", "Transpose", "Split", "Constant",
    ];

    /// <summary>Compiles <paramref name="node"/>; <paramref name="staticInts"/> gives the values of constant integer inputs.</summary>
    public static OnnxKernel Compile(NodeProto node, int opset, OnnxAttributes a, Func<string, long[]?> staticInts)
    {
        long[]? Static(int index) => index < node.Input.Count && node.Input[index].Length > 0 ? staticInts(node.Input[index]) : null;
        int outputs = node.Output.Count(o => o.Length > 0);

        switch (node.OpType)
        {
            case "Conv": return Conv(a);
            case "BatchNormalization":
            {
                if (opset < 9 && a.Int("spatial", 1) != 1)
                    throw a.Unsupported("BatchNormalization with spatial=0");
                if (a.Int("training_mode", 0) != 0 || outputs > 1)
                    throw a.Unsupported("BatchNormalization in training mode (extra outputs)");
                double eps = a.Float("epsilon", 1e-5f);
                double momentum = 1 - a.Float("momentum", 0.9f);
                return (x, c) => [F.batch_norm(x[0]!, x[3]!, x[4]!, x[1], x[2], c.Training, c.Momentum ?? momentum, eps)];
            }
            case "Relu": return One(x => x.relu());
            case "LeakyRelu": { double alpha = a.Float("alpha", 0.01f); return One(x => F.leaky_relu(x, alpha)); }
            case "Sigmoid": return One(x => x.sigmoid());
            case "Tanh": return One(x => x.tanh());
            case "HardSwish": return One(x => F.hardswish(x));
            case "HardSigmoid":
            {
                double alpha = a.Float("alpha", 0.2f), beta = a.Float("beta", 0.5f);
                return One(x => (x * alpha + beta).clamp(0, 1));
            }
            case "Clip":
                if (opset < 11)
                {
                    double min = a.Float("min", float.MinValue), max = a.Float("max", float.MaxValue);
                    return One(x => x.clamp(min, max));
                }
                return (x, _) => [x[0]!.clamp(x.Length > 1 && x[1] is { } lo ? lo.item<float>() : float.MinValue,
                                              x.Length > 2 && x[2] is { } hi ? hi.item<float>() : float.MaxValue)];
            case "Softmax":
            {
                long axis = a.Int("axis", opset < 13 ? 1 : -1);
                if (opset >= 13)
                    return One(x => x.softmax(axis));
                return One(x =>
                {
                    long ax = axis < 0 ? axis + x.dim() : axis;
                    long rows = x.shape.Take((int)ax).Aggregate(1L, (p, d) => p * d);
                    return x.reshape(rows, -1).softmax(1).reshape(x.shape);
                });
            }
            case "Add": return Two((x, y) => x + y);
            case "Sub": return Two((x, y) => x - y);
            case "Mul": return Two((x, y) => x * y);
            case "Div": return Two((x, y) => x.is_floating_point() ? x / y : x.div(y, RoundingMode.trunc));
            case "Sum": return (x, _) => [x.Skip(1).Aggregate(x[0]!, (s, t) => s + t!)];
            case "MaxPool":
                if (outputs > 1)
                    throw a.Unsupported("MaxPool's Indices output");
                return Pool(a, isMax: true);
            case "AveragePool": return Pool(a, isMax: false);
            case "GlobalAveragePool": return One(x => x.mean([.. Enumerable.Range(2, (int)x.dim() - 2).Select(d => (long)d)], keepdim: true));
            case "GlobalMaxPool": return One(x => x.amax([.. Enumerable.Range(2, (int)x.dim() - 2).Select(d => (long)d)], keepdim: true));
            case "Flatten":
            {
                long axis = a.Int("axis", 1);
                return One(x =>
                {
                    long ax = axis < 0 ? axis + x.dim() : axis;
                    long rows = x.shape.Take((int)ax).Aggregate(1L, (p, d) => p * d);
                    return x.reshape(rows, -1);
                });
            }
            case "Reshape":
            {
                if (opset < 5)
                    throw a.Unsupported("Reshape with a shape attribute (opset < 5)");
                bool allowZero = a.Int("allowzero", 0) != 0;
                long[]? fixedShape = Static(1);
                return (x, _) => [Reshape(x[0]!, fixedShape ?? Longs(x[1]!), allowZero)];
            }
            case "Gemm": return Gemm(a);
            case "MatMul": return Two((x, y) => x.matmul(y));
            case "Concat": { long axis = a.Int("axis", 1); return (x, _) => [cat(x.Where(t => t is not null).Select(t => t!).ToArray(), axis)]; }
            case "Pad": return Pad(a, opset, Static);
            case "ReduceMean":
            {
                if (opset >= 18)
                    throw a.Unsupported("ReduceMean with axes as an input (opset 18)");
                long[]? axes = a.Ints("axes");
                bool keep = a.Int("keepdims", 1) != 0;
                return One(x => axes is null ? (keep ? x.mean([.. Enumerable.Range(0, (int)x.dim()).Select(d => (long)d)], keepdim: true) : x.mean()) : x.mean(axes, keepdim: keep));
            }
            case "Identity": return One(x => x);
            case "Dropout": return (x, _) => outputs > 1 ? [x[0]!, ones_like(x[0]!, dtype: ScalarType.Bool)] : [x[0]!];
            case "Shape":
            {
                long start = a.Int("start", 0);
                long? end = a.Has("end") ? a.Int("end", 0) : null;
                return One(x =>
                {
                    long rank = x.dim();
                    long s = Math.Clamp(start < 0 ? start + rank : start, 0, rank);
                    long e = Math.Clamp(end is long v ? (v < 0 ? v + rank : v) : rank, 0, rank);
                    return tensor(x.shape.Skip((int)s).Take((int)Math.Max(0, e - s)).ToArray(), ScalarType.Int64);
                });
            }
            case "Gather":
            {
                long axis = a.Int("axis", 0);
                return Two((data, indices) =>
                {
                    long ax = axis < 0 ? axis + data.dim() : axis;
                    var idx = indices.to(ScalarType.Int64);
                    idx = where(idx < 0, idx + data.shape[ax], idx);
                    var picked = data.index_select(ax, idx.flatten());
                    long[] shape = [.. data.shape.Take((int)ax), .. indices.shape, .. data.shape.Skip((int)ax + 1)];
                    return picked.reshape(shape);
                });
            }
            case "Unsqueeze":
            {
                long[]? attrAxes = opset < 13 ? a.Ints("axes") : Static(1);
                return (x, _) =>
                {
                    long[] axes = attrAxes ?? Longs(x[1]!);
                    var y = x[0]!;
                    long rank = y.dim() + axes.Length;
                    foreach (long ax in axes.Select(v => v < 0 ? v + rank : v).Order())
                        y = y.unsqueeze(ax);
                    return [y];
                };
            }
            case "Squeeze":
            {
                long[]? attrAxes = opset < 13 ? a.Ints("axes") : Static(1);
                return (x, _) =>
                {
                    var y = x[0]!;
                    long[]? axes = attrAxes ?? (x.Length > 1 && x[1] is { } t ? Longs(t) : null);
                    if (axes is null)
                        return [y.squeeze()];
                    foreach (long ax in axes.Select(v => v < 0 ? v + y.dim() : v).OrderDescending())
                        y = y.squeeze(ax);
                    return [y];
                };
            }
            case "Cast":
            {
                var to = DataType((int)a.Int("to", 1), a);
                return One(x => x.to(to));
            }
            case "Transpose":
            {
                long[]? perm = a.Ints("perm");
                return One(x => x.permute(perm ?? [.. Enumerable.Range(0, (int)x.dim()).Reverse().Select(d => (long)d)]));
            }
            case "Split":
            {
                long axis = a.Int("axis", 0);
                long[]? sizes = opset < 13 ? a.Ints("split") : Static(1);
                return (x, _) =>
                {
                    var t = x[0]!;
                    long ax = axis < 0 ? axis + t.dim() : axis;
                    long[] parts = sizes ?? [.. Enumerable.Repeat(t.shape[ax] / outputs, outputs)];
                    return t.split(parts, ax);
                };
            }
        }
        throw new EdgeTrainerException(TrainerErrorCode.UnsupportedOnnxOperator,
            $"{a.Context}: operator '{node.OpType}' is not supported. Supported: {string.Join(", ", Supported)}.");
    }

    private static OnnxKernel One(Func<Tensor, Tensor> f) => (x, _) => [f(x[0]!)];

    private static OnnxKernel Two(Func<Tensor, Tensor, Tensor> f) => (x, _) => [f(x[0]!, x[1]!)];

    private static long[] Longs(Tensor t)
    {
        using var cpu = t.to(ScalarType.Int64).cpu();
        return cpu.data<long>().ToArray();
    }

    private static Tensor Reshape(Tensor x, long[] shape, bool allowZero)
    {
        var target = (long[])shape.Clone();
        if (!allowZero)
        {
            for (int i = 0; i < target.Length; i++)
            {
                if (target[i] == 0)
                    target[i] = x.shape[i];
            }
        }
        return x.reshape(target);
    }

    /// <summary>ONNX pads [x1_begin, x2_begin, …, x1_end, x2_end] over the last two axes in F.pad's order: [left, right, top, bottom].</summary>
    private static long[] TorchPads2d(long[] pads) => [pads[1], pads[3], pads[0], pads[2]];

    private static long[] ResolvePads(OnnxAttributes a, long[] kernel, long[] strides, long[] dilations, Tensor x)
    {
        string autoPad = a.String("auto_pad", "NOTSET");
        long[]? pads = a.Ints("pads");
        switch (autoPad)
        {
            case "NOTSET":
                return pads ?? new long[kernel.Length * 2];
            case "VALID":
                return new long[kernel.Length * 2];
            case "SAME_UPPER" or "SAME_LOWER":
            {
                var result = new long[kernel.Length * 2];
                for (int i = 0; i < kernel.Length; i++)
                {
                    long size = x.shape[2 + i];
                    long output = (size + strides[i] - 1) / strides[i];
                    long total = Math.Max(0, (output - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
                    long small = total / 2, large = total - small;
                    (result[i], result[i + kernel.Length]) = autoPad == "SAME_UPPER" ? (small, large) : (large, small);
                }
                return result;
            }
            default:
                throw a.Unsupported($"auto_pad '{autoPad}'");
        }
    }

    private static OnnxKernel Conv(OnnxAttributes a)
    {
        long groups = a.Int("group", 1);
        return (x, _) =>
        {
            var input = x[0]!;
            var weight = x[1]!;
            if (input.dim() != 4 || weight.dim() != 4)
                throw a.Unsupported($"Conv on a rank-{input.dim()} input (only 2-D convolutions)");
            long[] kernel = [weight.shape[2], weight.shape[3]];
            long[] strides = a.Ints("strides") ?? [1, 1];
            long[] dilations = a.Ints("dilations") ?? [1, 1];
            long[] pads = ResolvePads(a, kernel, strides, dilations, input);
            if (pads[0] == pads[2] && pads[1] == pads[3])
                return [F.conv2d(input, weight, x.Length > 2 ? x[2] : null, strides, [pads[0], pads[1]], dilations, groups)];
            var padded = F.pad(input, TorchPads2d(pads));
            return [F.conv2d(padded, weight, x.Length > 2 ? x[2] : null, strides, [0, 0], dilations, groups)];
        };
    }

    private static OnnxKernel Pool(OnnxAttributes a, bool isMax)
    {
        long[] kernel = a.Ints("kernel_shape") ?? throw a.Unsupported("a pool without kernel_shape");
        if (kernel.Length != 2)
            throw a.Unsupported($"{kernel.Length}-D pooling (only 2-D)");
        long[] strides = a.Ints("strides") ?? [1, 1];
        long[] dilations = a.Ints("dilations") ?? [1, 1];
        bool ceil = a.Int("ceil_mode", 0) != 0;
        bool countPad = a.Int("count_include_pad", 0) != 0;
        if (!isMax && dilations.Any(d => d != 1))
            throw a.Unsupported("dilated AveragePool");
        return (x, _) =>
        {
            var input = x[0]!;
            long[] pads = ResolvePads(a, kernel, strides, dilations, input);
            bool symmetric = pads[0] == pads[2] && pads[1] == pads[3] && pads[0] * 2 <= kernel[0] && pads[1] * 2 <= kernel[1];
            if (isMax)
            {
                return symmetric
                    ? [F.max_pool2d(input, kernel, strides, [pads[0], pads[1]], dilations, ceil)]
                    : [F.max_pool2d(F.pad(input, TorchPads2d(pads), value: double.NegativeInfinity), kernel, strides, [0, 0], dilations, ceil)];
            }
            if (symmetric)
                return [F.avg_pool2d(input, kernel, strides, [pads[0], pads[1]], ceil, countPad)];
            var sum = F.avg_pool2d(F.pad(input, TorchPads2d(pads)), kernel, strides, [0, 0], ceil, true);
            if (countPad)
                return [sum];
            var mask = F.pad(ones(1, 1, input.shape[2], input.shape[3], dtype: input.dtype, device: input.device), TorchPads2d(pads));
            return [sum / F.avg_pool2d(mask, kernel, strides, [0, 0], ceil, true)];
        };
    }

    private static OnnxKernel Gemm(OnnxAttributes a)
    {
        float alpha = a.Float("alpha", 1f), beta = a.Float("beta", 1f);
        bool transA = a.Int("transA", 0) != 0, transB = a.Int("transB", 0) != 0;
        return (x, _) =>
        {
            var left = transA ? x[0]!.t() : x[0]!;
            var bias = x.Length > 2 ? x[2] : null;
            if (transB && alpha == 1f && beta == 1f)
                return [F.linear(left, x[1]!, bias)];
            var product = left.matmul(transB ? x[1]!.t() : x[1]!);
            if (alpha != 1f)
                product *= alpha;
            return [bias is null ? product : product + (beta == 1f ? bias : bias * beta)];
        };
    }

    private static OnnxKernel Pad(OnnxAttributes a, int opset, Func<int, long[]?> staticInput)
    {
        string mode = a.String("mode", "constant");
        var torchMode = mode switch
        {
            "constant" => PaddingModes.Constant,
            "reflect" => PaddingModes.Reflect,
            "edge" => PaddingModes.Replicate,
            _ => throw a.Unsupported($"Pad mode '{mode}'"),
        };
        long[]? fixedPads = opset < 11 ? a.Ints("pads") ?? a.Ints("paddings") : staticInput(1);
        double attrValue = a.Float("value", 0f);
        return (x, _) =>
        {
            var input = x[0]!;
            long[] pads = fixedPads ?? Longs(x[1]!);
            int rank = (int)input.dim();
            if (pads.Length != rank * 2)
                throw a.Unsupported($"pads {OnnxAttributes.Format(pads)} for a rank-{rank} input");
            double value = opset >= 11 && x.Length > 2 && x[2] is { } v ? v.item<float>() : attrValue;
            var torchPads = new List<long>();
            for (int axis = rank - 1; axis >= 0; axis--)
                torchPads.AddRange([pads[axis], pads[axis + rank]]);
            while (torchPads.Count > 2 && torchPads[^1] == 0 && torchPads[^2] == 0)
                torchPads.RemoveRange(torchPads.Count - 2, 2);
            return [F.pad(input, [.. torchPads], torchMode, value)];
        };
    }

    /// <summary>The TorchSharp type for an ONNX <c>TensorProto.DataType</c>.</summary>
    public static ScalarType DataType(int onnxType, OnnxAttributes? a = null) => (TensorProto.Types.DataType)onnxType switch
    {
        TensorProto.Types.DataType.Float => ScalarType.Float32,
        TensorProto.Types.DataType.Float16 => ScalarType.Float16,
        TensorProto.Types.DataType.Bfloat16 => ScalarType.BFloat16,
        TensorProto.Types.DataType.Double => ScalarType.Float64,
        TensorProto.Types.DataType.Int64 => ScalarType.Int64,
        TensorProto.Types.DataType.Int32 => ScalarType.Int32,
        TensorProto.Types.DataType.Int8 => ScalarType.Int8,
        TensorProto.Types.DataType.Uint8 => ScalarType.Byte,
        TensorProto.Types.DataType.Bool => ScalarType.Bool,
        _ => throw (a?.Unsupported($"data type {(TensorProto.Types.DataType)onnxType}")
                    ?? new EdgeTrainerException(TrainerErrorCode.UnsupportedOnnxOperator, $"ONNX data type {(TensorProto.Types.DataType)onnxType} is not supported.")),
    };
}
