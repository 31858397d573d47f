using System.Text.RegularExpressions;
using Onnx;
using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>
/// An ONNX inference graph as a trainable TorchSharp module, built from the graph alone.
/// Weights of Conv, Gemm, MatMul (and their bias Adds) and BatchNormalization's affine terms
/// become parameters; BatchNorm running statistics become buffers; both live in one child
/// module per node, named after the node. Everything else (shapes, Clip bounds, mean images)
/// stays a constant.
/// <para>
/// Layer groups come from the structure: each node joins the stage of the output stride it
/// produces (≤2 stem, 4 stage1, 8 stage2, 16 stage3, ≥32 stage4), nodes on 1×1 maps inherit
/// from their inputs, and matrix products after global pooling form <c>classifier</c>.
/// Optional node-name patterns override this. A leading frozen run of nodes executes under
/// no-grad, so it keeps no activations.
/// </para>
/// </summary>
public sealed class OnnxGraphModule : nn.Module<Tensor, Tensor>, IBackbone, IFrozenPrefix
{
    /// <summary>Group names, bottom to top; <c>classifier</c> exists only when the graph has one.</summary>
    public static IReadOnlyList<string> GroupNames { get; } = ["stem", "stage1", "stage2", "stage3", "stage4", "classifier"];

    private readonly OnnxGraph _graph;
    private readonly Step[] _steps;
    private readonly string _outputName;
    private readonly LayerGroup[] _groups;
    private readonly long?[] _inputDims;

    private sealed record Step(int GraphIndex, string Name, string OpType, string[] InputNames, Source[] Inputs, string[] Outputs, OnnxKernel Kernel, OnnxNodeModule? Owner, string Context);

    private delegate Tensor? Source(Dictionary<string, Tensor> values);

    internal OnnxGraphModule(OnnxGraph graph, string output, IReadOnlySet<int> nodes, OnnxImportOptions options)
        : base(options.Name ?? (string.IsNullOrEmpty(graph.Model.Graph.Name) ? "onnx" : graph.Model.Graph.Name))
    {
        _graph = graph;
        _outputName = output;
        _inputDims = graph.InputDims;
        Architecture = options.Name ?? (string.IsNullOrEmpty(graph.Model.Graph.Name) ? "onnx" : graph.Model.Graph.Name);
        var owners = RegisterNodeModules(graph, nodes);
        var constantNames = new Dictionary<string, string>(StringComparer.Ordinal);
        _steps = [.. nodes.Select(i => BuildStep(graph, i, owners, constantNames))];
        (FeatureDim, _groups) = FindGroups(options);
    }

    /// <inheritdoc />
    public string Architecture { get; }

    /// <inheritdoc />
    public int FeatureDim { get; }

    /// <inheritdoc />
    public IReadOnlyList<LayerGroup> LayerGroups => _groups;

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> Network => this;

    /// <inheritdoc />
    public int MinInputSize => _inputDims.Length == 4 && _inputDims[2] is long h ? (int)h : BackboneZoo.MinInputSize;

    /// <summary>The ONNX opset the graph was written for.</summary>
    public int Opset => _graph.Opset;

    /// <summary>Number of ONNX nodes this module runs.</summary>
    public int NodeCount => _steps.Length;

    /// <summary>Rank of the graph input (4 for images, 2 for features).</summary>
    internal int InputRank => _inputDims.Length;

    /// <summary>Runs the graph: the value named at import (the graph output, or pooled features), unflattened.</summary>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(input);
        using var scope = NewDisposeScope();
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [_graph.InputName] = input };
        int firstTrainable = FirstTrainableStep();
        if (firstTrainable > 0)
        {
            using (no_grad())
                RunSteps(values, 0, firstTrainable);
        }
        RunSteps(values, firstTrainable, _steps.Length);
        return values[_outputName].MoveToOuterDisposeScope();
    }

    /// <summary>[N, C, H, W] images → [N, D] features: the output flattened, globally averaged first if it is still a map.</summary>
    public Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        return Pooled(forward(input)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public int FrozenPrefixLength
    {
        get
        {
            using var grad = enable_grad();
            return FirstTrainableStep();
        }
    }

    /// <inheritdoc />
    public bool CanSplitAt(int cut) => cut > 0 && cut <= _steps.Length && ValuesCrossing(cut).Count == 1;

    /// <inheritdoc />
    public Tensor ForwardPrefix(Tensor input, int cut)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(input);
        string crossing = SingleValueCrossing(cut);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [_graph.InputName] = input };
        RunSteps(values, 0, cut);
        return values[crossing].MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor ForwardFeaturesFrom(Tensor prefix, int cut)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string crossing = SingleValueCrossing(cut);
        using var scope = NewDisposeScope();
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [crossing] = prefix };
        RunSteps(values, cut, _steps.Length);
        return Pooled(values[_outputName]).MoveToOuterDisposeScope();
    }

    /// <summary>The values made before step <paramref name="cut"/> (or the graph input) that a later step, or the output, reads.</summary>
    private List<string> ValuesCrossing(int cut)
    {
        var made = new HashSet<string>(_steps.Take(cut).SelectMany(s => s.Outputs).Where(o => o.Length > 0), StringComparer.Ordinal) { _graph.InputName };
        var read = _steps.Skip(cut).SelectMany(s => s.InputNames).Append(_outputName);
        return [.. read.Where(made.Contains).Distinct(StringComparer.Ordinal)];
    }

    private string SingleValueCrossing(int cut)
    {
        var crossing = cut > 0 && cut <= _steps.Length ? ValuesCrossing(cut) : [];
        return crossing.Count == 1 ? crossing[0]
            : throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration,
                $"{Architecture} cannot be split at step {cut}: {crossing.Count} values cross there, not one.");
    }

    private static Tensor Pooled(Tensor y)
    {
        if (y.dim() == 4 && (y.shape[2] > 1 || y.shape[3] > 1))
            y = y.mean([2, 3]);
        return y.flatten(1);
    }

    /// <summary>The group named <paramref name="name"/>.</summary>
    public LayerGroup Group(string name) =>
        _groups.FirstOrDefault(g => g.Name == name)
        ?? throw new EdgeTrainerException(TrainerErrorCode.UnknownLayerGroup,
            $"Unknown layer group '{name}'. Groups: {string.Join(", ", _groups.Select(g => g.Name))}.");

    /// <summary>Re-initializes every parameter the way torchvision initializes a fresh CNN (Kaiming-normal convolutions, unit BatchNorm, uniform linear layers): the "same architecture, random weights" baseline.</summary>
    public void ResetParameters(int seed)
    {
        var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var owner in _steps.Select(s => s.Owner).OfType<OnnxNodeModule>().Distinct())
        {
            foreach (var (local, p) in owner.named_parameters(recurse: false))
            {
                switch (owner.OpType, local)
                {
                    case ("Conv", "weight"):
                        // Kaiming normal, fan_out, ReLU gain: std = sqrt(2 / (out_channels · kh · kw)).
                        p.normal_(0, Math.Sqrt(2.0 / (p.shape[0] * p.shape[2] * p.shape[3])), generator);
                        break;
                    case ("BatchNormalization", "weight"):
                        p.fill_(1);
                        break;
                    case (_, "weight"):
                    {
                        double bound = 1 / Math.Sqrt(p.dim() > 1 ? p.shape[^1] : p.shape[0]);
                        p.uniform_(-bound, bound, generator);
                        break;
                    }
                    default:
                        p.zero_();
                        break;
                }
            }
            foreach (var (local, b) in owner.named_buffers(recurse: false))
            {
                if (local == "running_var")
                    b.fill_(1);
                else
                    b.zero_();
            }
        }
    }

    /// <summary>
    /// The graph as ONNX again, in its original opset, with the current weights and running
    /// statistics: only the nodes this module runs, ending at its output. This is how an
    /// imported model that was fine-tuned here goes back to ONNX Runtime for serving.
    /// </summary>
    /// <param name="dynamicBatch">Declare the batch axis of input and output dynamic (the module itself accepts any batch).</param>
    public ModelProto ToModelProto(bool dynamicBatch = true)
    {
        var model = _graph.Model.Clone();
        var graph = model.Graph;
        var kept = _steps.Select(s => s.GraphIndex).ToHashSet();
        var nodes = graph.Node.Where((n, i) => kept.Contains(i)).ToList();
        var read = nodes.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        nodes.InsertRange(0, graph.Node.Where(n => n.OpType == "Constant" && n.Output.Any(read.Contains)));
        graph.Node.Clear();
        graph.Node.AddRange(nodes);

        var current = _steps.Select(s => s.Owner).OfType<OnnxNodeModule>().Distinct()
            .SelectMany(m => m.Initializers()).ToDictionary(x => x.OnnxName, x => x.Value, StringComparer.Ordinal);
        var used = nodes.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        var initializers = graph.Initializer.Where(t => used.Contains(t.Name))
            .Select(t => current.TryGetValue(t.Name, out var value) ? OnnxProto.FloatTensor(t.Name, value) : t)
            .ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers);
        var inputs = graph.Input.Where(i => i.Name == _graph.InputName).ToList();
        graph.Input.Clear();
        graph.Input.AddRange(inputs);
        if (graph.Output.All(o => o.Name != _outputName))
        {
            graph.Output.Clear();
            graph.Output.Add(new ValueInfoProto { Name = _outputName, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxProto.FloatType } } });
        }
        else
        {
            var output = graph.Output.First(o => o.Name == _outputName);
            graph.Output.Clear();
            graph.Output.Add(output);
        }
        graph.ValueInfo.Clear();
        if (dynamicBatch)
        {
            foreach (var end in graph.Input.Concat(graph.Output))
            {
                if (end.Type?.TensorType?.Shape is { Dim.Count: > 0 } shape)
                    shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "batch" };
            }
        }
        return model;
    }

    private void RunSteps(Dictionary<string, Tensor> values, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            var step = _steps[i];
            var inputs = new Tensor?[step.Inputs.Length];
            for (int k = 0; k < inputs.Length; k++)
                inputs[k] = step.Inputs[k](values);
            var outputs = OnnxGraph.Execute(step.Kernel, inputs, new OnnxKernelContext(step.Owner?.training ?? training, step.Owner?.MomentumOverride), step.Context);
            for (int o = 0; o < step.Outputs.Length && o < outputs.Length; o++)
            {
                if (step.Outputs[o].Length > 0)
                    values[step.Outputs[o]] = outputs[o];
            }
        }
    }

    private int FirstTrainableStep()
    {
        if (!is_grad_enabled())
            return 0;
        for (int i = 0; i < _steps.Length; i++)
        {
            if (_steps[i].Owner is { } owner && owner.parameters().Any(p => p.requires_grad))
                return i;
        }
        return _steps.Length;
    }

    private void CheckInput(Tensor input)
    {
        if (input.dim() != _inputDims.Length && _inputDims.Length > 0)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape,
                $"{Architecture} expects a rank-{_inputDims.Length} input {Describe(_inputDims)}, got [{string.Join(", ", input.shape)}].");
        for (int d = 1; d < _inputDims.Length; d++)
        {
            if (_inputDims[d] is long size && input.shape[d] != size)
                throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape,
                    $"{Architecture} expects input {Describe(_inputDims)}, got [{string.Join(", ", input.shape)}].");
        }
    }

    private static string Describe(long?[] dims) => "[" + string.Join(", ", dims.Select(d => d?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?")) + "]";

    /// <summary>Creates one child module per node that owns parameters or BatchNorm statistics.</summary>
    private Dictionary<string, OnnxNodeModule> RegisterNodeModules(OnnxGraph graph, IReadOnlySet<int> nodes)
    {
        var owners = new Dictionary<string, OnnxNodeModule>(StringComparer.Ordinal);
        var producers = new Dictionary<string, string>(StringComparer.Ordinal);
        var usedNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (int i in nodes)
        {
            var node = graph.Nodes[i].Node;
            foreach (var o in node.Output)
                producers[o] = node.OpType;
            var roles = Roles(node, producers).Where(r => graph.Initializers.ContainsKey(r.OnnxName) && !owners.ContainsKey(r.OnnxName)).ToList();
            if (roles.Count == 0)
                continue;
            string moduleName = UniqueModuleName(node.Name, node.OpType, i, usedNames);
            var module = new OnnxNodeModule(moduleName, node.OpType);
            foreach (var (local, onnxName, isParameter) in roles)
            {
                var value = graph.Initializers[onnxName];
                if (!value.is_floating_point())
                    continue;
                if (isParameter)
                    module.AddParameter(local, onnxName, value);
                else
                    module.AddBuffer(local, onnxName, value);
                owners[onnxName] = module;
            }
            register_module(moduleName, module);
        }
        return owners;
    }

    /// <summary>Which inputs of a node are trainable state: (local name, ONNX name, parameter or buffer).</summary>
    private static IEnumerable<(string Local, string OnnxName, bool IsParameter)> Roles(global::Onnx.NodeProto node, Dictionary<string, string> producers)
    {
        string In(int i) => i < node.Input.Count ? node.Input[i] : "";
        switch (node.OpType)
        {
            case "Conv" or "Gemm":
                yield return ("weight", In(1), true);
                if (In(2).Length > 0)
                    yield return ("bias", In(2), true);
                break;
            case "MatMul":
                yield return ("weight", In(1), true);
                break;
            case "BatchNormalization":
                yield return ("weight", In(1), true);
                yield return ("bias", In(2), true);
                yield return ("running_mean", In(3), false);
                yield return ("running_var", In(4), false);
                break;
            case "Add":
                // A bias added to a convolution or matrix product (older exporters split Linear into MatMul + Add).
                if (producers.TryGetValue(In(0), out var op) && op is "MatMul" or "Conv" or "Gemm")
                    yield return ("bias", In(1), true);
                break;
        }
    }

    private static string UniqueModuleName(string nodeName, string opType, int index, HashSet<string> used)
    {
        string baseName = Regex.Replace(string.IsNullOrEmpty(nodeName) ? $"{opType}_{index}" : nodeName, "[^A-Za-z0-9_]", "_");
        string name = baseName;
        for (int k = 1; !used.Add(name); k++)
            name = $"{baseName}_{k}";
        return name;
    }

    private Step BuildStep(OnnxGraph graph, int index, Dictionary<string, OnnxNodeModule> owners, Dictionary<string, string> constantNames)
    {
        var (node, kernel, context, graphIndex) = graph.Nodes[index];
        var sources = node.Input.Select(name => SourceFor(name, graph, owners, constantNames)).ToArray();
        var owner = node.Input.Select(n => owners.GetValueOrDefault(n)).FirstOrDefault(m => m is not null);
        return new Step(graphIndex, node.Name, node.OpType, [.. node.Input.Where(n => n.Length > 0)], sources, [.. node.Output], kernel, owner, context);
    }

    private Source SourceFor(string name, OnnxGraph graph, Dictionary<string, OnnxNodeModule> owners, Dictionary<string, string> constantNames)
    {
        if (name.Length == 0)
            return _ => null;
        if (owners.TryGetValue(name, out var owner))
            return _ => owner.Get(name);
        if (graph.Initializers.TryGetValue(name, out var constant))
        {
            if (!constantNames.TryGetValue(name, out var local))
            {
                local = $"const_{constantNames.Count}";
                register_buffer(local, constant, persistent: false);
                constantNames[name] = local;
            }
            return _ => get_buffer(local);
        }
        return values => values[name];
    }

    private (int FeatureDim, LayerGroup[] Groups) FindGroups(OnnxImportOptions options)
    {
        var patterns = options.GroupPatterns.Select(p =>
        {
            int g = GroupNames.ToList().IndexOf(p.Group);
            if (g < 0)
                throw new EdgeTrainerException(TrainerErrorCode.UnknownLayerGroup,
                    $"Group pattern names unknown group '{p.Group}'. Groups: {string.Join(", ", GroupNames)}.");
            return (Group: g, Regex: new Regex(p.NodeNamePattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)));
        }).ToList();

        long side = _inputDims.Length == 4 && _inputDims[2] is long fixedSide ? fixedSide : Math.Max(64, options.ProbeSize);
        long[] probeShape = _inputDims.Length == 4
            ? [1, _inputDims[1] ?? 3, side, _inputDims[3] ?? side]
            : [1, _inputDims.ElementAtOrDefault(1) ?? 1];

        var wasTraining = modules().Prepend(this).Select(m => (m, m.training)).ToArray();
        eval();
        var stepGroup = new int[_steps.Length];
        int featureDim;
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var values = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [_graph.InputName] = zeros(probeShape) };
            var valueGroup = new Dictionary<string, int>(StringComparer.Ordinal) { [_graph.InputName] = 0 };
            bool pooled = false;
            for (int i = 0; i < _steps.Length; i++)
            {
                RunSteps(values, i, i + 1);
                var step = _steps[i];
                var output = values[step.Outputs[0]];
                int inherited = step.InputNames.Select(n => valueGroup.GetValueOrDefault(n, 0)).DefaultIfEmpty(0).Max();
                int group = output.dim() == 4 && _inputDims.Length == 4 && output.shape[2] > 1
                    ? StrideGroup(side / output.shape[2])
                    : inherited;
                if (step.OpType is "GlobalAveragePool" or "GlobalMaxPool" or "ReduceMean" or "AveragePool" && output.dim() == 4 && output.shape[2] == 1)
                    pooled = true;
                if (pooled && step.OpType is "Gemm" or "MatMul" && output.dim() == 2)
                    group = 5;
                var match = patterns.FirstOrDefault(p => p.Regex.IsMatch(step.Name));
                if (match.Regex is not null)
                    group = match.Group;
                stepGroup[i] = group;
                foreach (var o in step.Outputs)
                    valueGroup[o] = group;
            }
            JoinStridedConvolutions(stepGroup, values);
            var result = values[_outputName];
            featureDim = result.dim() >= 2 ? (int)result.shape[1] : (int)result.numel();
        }
        finally
        {
            foreach (var (m, t) in wasTraining)
                m.train(t);
        }

        var groups = new List<LayerGroup>();
        for (int g = 0; g < GroupNames.Count; g++)
        {
            var members = _steps.Where((s, i) => stepGroup[i] == g && s.Owner is not null).Select(s => (nn.Module)s.Owner!).Distinct().ToArray();
            if (g < 5 || members.Length > 0)
                groups.Add(new LayerGroup(GroupNames[g], members));
        }
        return (featureDim, [.. groups]);
    }

    private static readonly HashSet<string> PassThroughOps = new(StringComparer.Ordinal)
    {
        "BatchNormalization", "Relu", "LeakyRelu", "Clip", "HardSwish", "HardSigmoid", "Sigmoid", "Tanh", "Identity", "Dropout",
    };

    /// <summary>
    /// A convolution that feeds a strided convolution through BatchNorm and activations only belongs to
    /// that convolution's stage, as torchvision counts a bottleneck's or inverted residual's
    /// 1×1 expansion in the stage its block produces.
    /// </summary>
    private void JoinStridedConvolutions(int[] stepGroup, Dictionary<string, Tensor> values)
    {
        var consumers = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < _steps.Length; i++)
        {
            foreach (var input in _steps[i].InputNames)
            {
                if (!consumers.TryGetValue(input, out var list))
                    consumers[input] = list = [];
                list.Add(i);
            }
        }
        bool IsStridedConv(int i) =>
            _steps[i].OpType == "Conv" && values.TryGetValue(_steps[i].InputNames[0], out var x) && x.dim() == 4
            && values[_steps[i].Outputs[0]].shape[2] < x.shape[2];

        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _steps.Length; i++)
        {
            foreach (var o in _steps[i].Outputs)
                producer[o] = i;
            if (_steps[i].OpType == "BatchNormalization" && producer.TryGetValue(_steps[i].InputNames[0], out int source))
            {
                stepGroup[i] = stepGroup[source];   // BatchNorm stays with the layer it normalizes
                continue;
            }
            if (_steps[i].Owner is null || _steps[i].OpType != "Conv" || IsStridedConv(i))
                continue;
            int current = i;
            while (consumers.TryGetValue(_steps[current].Outputs[0], out var next) && next.Count == 1)
            {
                current = next[0];
                if (IsStridedConv(current))
                {
                    stepGroup[i] = Math.Max(stepGroup[i], stepGroup[current]);
                    break;
                }
                if (!PassThroughOps.Contains(_steps[current].OpType))
                    break;
            }
        }
    }

    private static int StrideGroup(long stride) => stride switch
    {
        <= 2 => 0,
        <= 4 => 1,
        <= 8 => 2,
        <= 16 => 3,
        _ => 4,
    };
}
