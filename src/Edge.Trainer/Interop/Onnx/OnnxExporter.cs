using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Models;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>
/// Writes TorchSharp models as ONNX with our own writer (TorchSharp has no export): every zoo
/// backbone, <see cref="TransferModel"/>, <see cref="HeadModel"/> or a bare head, and models
/// imported from ONNX. Eval semantics: Dropout is dropped, BatchNorm is written as
/// <c>BatchNormalization</c> with its running statistics. The batch axis is dynamic.
/// <para>
/// The exporter traces a sample input through the real modules while it writes: composite
/// blocks (residual blocks, squeeze-excitation) are checked against their own forward, so an
/// export rule that does not reproduce a module is an error, never a silently wrong file.
/// </para>
/// </summary>
public static class OnnxExporter
{
    private readonly record struct Traced(string Name, Tensor Sample);

    /// <summary>Exports <paramref name="model"/> and returns the ONNX model.</summary>
    public static ModelProto Export(nn.Module<Tensor, Tensor> model, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new OnnxExportOptions();
        if (options.Opset is < OnnxExportOptions.MinOpset or > OnnxExportOptions.MaxOpset)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration,
                $"ONNX export writes opsets {OnnxExportOptions.MinOpset} to {OnnxExportOptions.MaxOpset}, not {options.Opset}.");
        if (options.TraceInputSize < BackboneZoo.MinInputSize)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"TraceInputSize must be ≥ {BackboneZoo.MinInputSize}.");

        if (model is OnnxGraphModule imported)
            return options.Float16 ? OnnxFloat16.Convert(imported.ToModelProto()) : imported.ToModelProto();
        var modes = model.modules().Prepend(model).Select(m => (m, m.training)).ToArray();
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var builder = new OnnxGraphBuilder(options.Opset);
            var (sample, inputInfo) = SampleInput(model, options);
            var output = Emit(builder, model, new Traced(options.InputName, sample), "");
            Check(model, "model", output.Sample, model.forward(sample));
            var outputInfo = OnnxProto.TensorValue(options.OutputName, OnnxProto.FloatType,
                [(null, "batch"), .. output.Sample.shape.Skip(1).Select(d => ((long?)d, (string?)null))]);
            var proto = builder.Build(options.GraphName ?? NameOf(model), inputInfo, outputInfo, output.Name);
            return options.Float16 ? OnnxFloat16.Convert(proto) : proto;
        }
        finally
        {
            foreach (var (m, training) in modes)
                m.train(training);
        }
    }

    /// <summary>Exports <paramref name="model"/> to <paramref name="path"/> (written atomically) and returns the file's size.</summary>
    public static long Save(nn.Module<Tensor, Tensor> model, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = Export(model, options).ToByteArray();
        string temp = path + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
        return bytes.Length;
    }

    private static (Tensor Sample, ValueInfoProto Info) SampleInput(nn.Module<Tensor, Tensor> model, OnnxExportOptions options)
    {
        if (FeatureWidth(model) is int width)
        {
            var info = OnnxProto.TensorValue(options.InputName, OnnxProto.FloatType, [(null, "batch"), (width, null)]);
            return (randn(2, width, generator: new Generator(7)), info);
        }
        int side = options.TraceInputSize;
        long? fixedSide = options.FixedInputSize ? side : null;
        var imageInfo = OnnxProto.TensorValue(options.InputName, OnnxProto.FloatType,
            [(null, "batch"), (3, null), (fixedSide, "height"), (fixedSide, "width")]);
        return (randn(2, 3, side, side, generator: new Generator(7)), imageInfo);
    }

    /// <summary>The input width of a model that reads features rather than images, else null.</summary>
    private static int? FeatureWidth(nn.Module model) => model switch
    {
        HeadModel h => h.FeatureDim,
        Linear l => (int)l.in_features,
        Sequential s when s.children().FirstOrDefault() is Linear first => (int)first.in_features,
        _ => null,
    };

    private static Traced Emit(OnnxGraphBuilder b, nn.Module module, Traced x, string path)
    {
        switch (module)
        {
            case TransferModel t:
                return Emit(b, t.Head, Emit(b, t.Backbone.Network, x, Join(path, "backbone")), Join(path, "head"));
            case HeadModel h:
                return Emit(b, h.Head, x, Join(path, "head"));
            case ZooBackbone z:
            {
                var y = x;
                foreach (var (name, unit) in z.NamedUnits)
                    y = Emit(b, unit, y, Join(path, name));
                var pooled = Op(b, "GlobalAveragePool", path, [y.Name], y.Sample.mean([2, 3], keepdim: true));
                var flat = Op(b, "Flatten", path, [pooled.Name], pooled.Sample.flatten(1), OnnxProto.Int("axis", 1));
                Check(module, path, flat.Sample, z.forward(x.Sample));
                return flat;
            }
            case OnnxGraphModule:
                throw new EdgeTrainerException(TrainerErrorCode.UnsupportedExport,
                    $"'{path}' is an imported ONNX graph inside another model; export it on its own (it keeps its original opset), and the head separately.");
            case Sequential s:
            {
                var y = x;
                foreach (var (name, child) in s.named_children())
                    y = Emit(b, child, y, Join(path, name));
                return y;
            }
            default:
                return EmitLeafOrBlock(b, module, x, path);
        }
    }

    private static Traced EmitLeafOrBlock(OnnxGraphBuilder b, nn.Module module, Traced x, string path)
    {
        var forward = module as nn.Module<Tensor, Tensor>;
        switch (module)
        {
            case Conv2d c:
                return Conv(b, c, x, path);
            case BatchNorm2d bn:
                return Op(b, "BatchNormalization", path,
                    [x.Name, b.Initializer(Join(path, "weight"), bn.weight!), b.Initializer(Join(path, "bias"), bn.bias!),
                     b.Initializer(Join(path, "running_mean"), bn.running_mean!), b.Initializer(Join(path, "running_var"), bn.running_var!)],
                    bn.forward(x.Sample),
                    OnnxProto.Float("epsilon", (float)bn.eps), OnnxProto.Float("momentum", 1f - (float)(bn.momentum ?? 0.1)));
            case ReLU:
                return Op(b, "Relu", path, [x.Name], x.Sample.relu());
            case ReLU6:
                return Op(b, "Clip", path, [x.Name, b.Scalar(Join(path, "min"), 0), b.Scalar(Join(path, "max"), 6)], x.Sample.clamp(0, 6));
            case Hardsigmoid:
                return Op(b, "HardSigmoid", path, [x.Name], nn.functional.hardsigmoid(x.Sample),
                    OnnxProto.Float("alpha", 1f / 6), OnnxProto.Float("beta", 0.5f));
            case Hardswish when b.Opset >= 14:
                return Op(b, "HardSwish", path, [x.Name], nn.functional.hardswish(x.Sample));
            case Hardswish:
            {
                var gate = Op(b, "HardSigmoid", path, [x.Name], nn.functional.hardsigmoid(x.Sample),
                    OnnxProto.Float("alpha", 1f / 6), OnnxProto.Float("beta", 0.5f));
                return Op(b, "Mul", path, [x.Name, gate.Name], x.Sample * gate.Sample);
            }
            case Sigmoid:
                return Op(b, "Sigmoid", path, [x.Name], x.Sample.sigmoid());
            case SiLU:
            {
                var gate = Op(b, "Sigmoid", path, [x.Name], x.Sample.sigmoid());
                return Op(b, "Mul", path, [x.Name, gate.Name], x.Sample * gate.Sample);
            }
            case Dropout or Identity:
                return x;
            case Flatten f when f.end_dim == -1:
                return Op(b, "Flatten", path, [x.Name], x.Sample.flatten(f.start_dim), OnnxProto.Int("axis", f.start_dim));
            case Linear l:
            {
                var inputs = new List<string> { x.Name, b.Initializer(Join(path, "weight"), l.weight) };
                if (l.bias is not null)
                    inputs.Add(b.Initializer(Join(path, "bias"), l.bias));
                return Op(b, "Gemm", path, inputs, l.forward(x.Sample), OnnxProto.Int("transB", 1));
            }
            case AdaptiveAvgPool2d p when p.output_size.All(s => s == 1):
                return Op(b, "GlobalAveragePool", path, [x.Name], p.forward(x.Sample));
            case MaxPool2d p:
                return Op(b, "MaxPool", path, [x.Name], p.forward(x.Sample),
                    OnnxProto.Ints("kernel_shape", Pair(p.kernel_size)), OnnxProto.Ints("strides", Pair(p.stride ?? p.kernel_size)),
                    OnnxProto.Ints("pads", [.. Pair(p.padding ?? [0]), .. Pair(p.padding ?? [0])]),
                    OnnxProto.Ints("dilations", Pair(p.dilation ?? [1])), OnnxProto.Int("ceil_mode", p.ceil_mode ? 1 : 0));
        }

        string typeName = module.GetType().FullName ?? module.GetType().Name;
        var children = module.named_children().ToDictionary(c => c.name, c => c.module);
        Traced result = typeName switch
        {
            "TorchSharp.Modules.ResNet+BasicBlock" => ResidualBlock(b, x, path, children, ["conv1", "bn1", "relu1", "conv2", "bn2"], "relu1"),
            "TorchSharp.Modules.ResNet+Bottleneck" => ResidualBlock(b, x, path, children, ["conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3"], "relu1"),
            "TorchSharp.Modules.MobileNetV2+InvertedResidual" => InvertedResidual(b, x, path, children, "conv"),
            "TorchSharp.Modules.MobileNetV3+InvertedResidual" => InvertedResidual(b, x, path, children, "block"),
            "TorchSharp.torchvision+SqueezeExcitation" => SqueezeExcitation(b, x, path, children),
            _ => throw new EdgeTrainerException(TrainerErrorCode.UnsupportedExport,
                $"ONNX export has no rule for module '{(path.Length == 0 ? "<root>" : path)}' of type {typeName}."),
        };
        if (forward is not null)
            Check(module, path, result.Sample, forward.forward(x.Sample));
        return result;
    }

    private static Traced Conv(OnnxGraphBuilder b, Conv2d c, Traced x, string path)
    {
        if (c.padding_mode != PaddingModes.Zeros || c.padding_type is not null || c.transposed)
            throw new EdgeTrainerException(TrainerErrorCode.UnsupportedExport,
                $"ONNX export of '{path}': only zero-padded, explicitly padded, non-transposed Conv2d is supported.");
        var inputs = new List<string> { x.Name, b.Initializer(Join(path, "weight"), c.weight!) };
        if (c.bias is not null)
            inputs.Add(b.Initializer(Join(path, "bias"), c.bias));
        var pads = Pair(c.padding!);
        return Op(b, "Conv", path, inputs, c.forward(x.Sample),
            OnnxProto.Ints("kernel_shape", Pair(c.kernel_size!)), OnnxProto.Ints("strides", Pair(c.stride!)),
            OnnxProto.Ints("pads", [.. pads, .. pads]), OnnxProto.Ints("dilations", Pair(c.dilation!)),
            OnnxProto.Int("group", c.groups));
    }

    /// <summary>torchvision's BasicBlock / Bottleneck: main path, plus the (down-sampled) input, then ReLU.</summary>
    private static Traced ResidualBlock(OnnxGraphBuilder b, Traced x, string path, Dictionary<string, nn.Module> children, string[] mainPath, string finalRelu)
    {
        var y = x;
        foreach (var name in mainPath)
            y = Emit(b, children[name], y, Join(path, name));
        var identity = children.TryGetValue("downsample", out var down) && down is not null ? Emit(b, down, x, Join(path, "downsample")) : x;
        var sum = Op(b, "Add", path, [y.Name, identity.Name], y.Sample + identity.Sample);
        return Emit(b, children[finalRelu], sum, Join(path, finalRelu + "_out"));
    }

    /// <summary>MobileNet's inverted residual: the inner block, plus the input when the block keeps its shape (stride 1, same width).</summary>
    private static Traced InvertedResidual(OnnxGraphBuilder b, Traced x, string path, Dictionary<string, nn.Module> children, string inner)
    {
        var y = Emit(b, children[inner], x, Join(path, inner));
        return y.Sample.shape.SequenceEqual(x.Sample.shape)
            ? Op(b, "Add", path, [x.Name, y.Name], x.Sample + y.Sample)
            : y;
    }

    /// <summary>torchvision's SqueezeExcitation: x · σ(fc2(act(fc1(avgpool(x))))).</summary>
    private static Traced SqueezeExcitation(OnnxGraphBuilder b, Traced x, string path, Dictionary<string, nn.Module> children)
    {
        var s = x;
        foreach (var name in new[] { "avgpool", "fc1", "activation", "fc2", "scale_activation" })
            s = Emit(b, children[name], s, Join(path, name));
        return Op(b, "Mul", path, [s.Name, x.Name], s.Sample * x.Sample);
    }

    private static Traced Op(OnnxGraphBuilder b, string opType, string path, IEnumerable<string> inputs, Tensor sample, params AttributeProto[] attributes) =>
        new(b.Node(opType, path, inputs, attributes), sample);

    private static void Check(nn.Module module, string path, Tensor exported, Tensor actual)
    {
        bool same = exported.shape.SequenceEqual(actual.shape)
            && (exported - actual).abs().max().item<float>() <= 1e-4f * Math.Max(1f, actual.abs().max().item<float>());
        if (!same)
            throw new EdgeTrainerException(TrainerErrorCode.UnsupportedExport,
                $"ONNX export of '{(path.Length == 0 ? "<root>" : path)}' ({module.GetType().Name}) does not reproduce the module's forward pass; refusing to write a wrong file.");
    }

    private static long[] Pair(long[] values) => values.Length == 1 ? [values[0], values[0]] : values;

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static string NameOf(nn.Module model) => model switch
    {
        TransferModel t => t.Backbone.Architecture + "-transfer",
        ZooBackbone z => z.Architecture,
        _ => model.GetName(),
    };
}
