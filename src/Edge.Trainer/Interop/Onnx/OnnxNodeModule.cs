using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>
/// The trainable state of one ONNX node (a Conv's weight and bias, a BatchNormalization's
/// affine parameters and running statistics…), registered as a child module named after the
/// node, so freezing, unfreezing, layer groups and BatchNorm's train/eval mode work per node.
/// </summary>
internal sealed class OnnxNodeModule : nn.Module
{
    private readonly Dictionary<string, string> _localByOnnxName = new(StringComparer.Ordinal);

    public OnnxNodeModule(string name, string opType) : base(name) => OpType = opType;

    /// <summary>Overrides a BatchNormalization node's momentum (PyTorch convention) while set.</summary>
    public double? MomentumOverride { get; set; }

    /// <summary>The node's operator.</summary>
    public string OpType { get; }

    /// <summary>Registers an ONNX initializer as a trainable parameter under a local name (weight, bias…).</summary>
    public void AddParameter(string local, string onnxName, Tensor value)
    {
        register_parameter(local, new TorchSharp.Modules.Parameter(value, requires_grad: true));
        _localByOnnxName[onnxName] = local;
    }

    /// <summary>Registers an ONNX initializer as a buffer (BatchNorm running statistics).</summary>
    public void AddBuffer(string local, string onnxName, Tensor value)
    {
        register_buffer(local, value, persistent: true);
        _localByOnnxName[onnxName] = local;
    }

    /// <summary>True when this module owns the ONNX initializer <paramref name="onnxName"/>.</summary>
    public bool Owns(string onnxName) => _localByOnnxName.ContainsKey(onnxName);

    /// <summary>The current tensor for an owned initializer (looked up each time, so device moves are seen).</summary>
    public Tensor Get(string onnxName)
    {
        string local = _localByOnnxName[onnxName];
        return get_parameter(local) ?? get_buffer(local)
            ?? throw new InvalidOperationException($"Node module {GetName()} lost '{local}'.");
    }

    /// <summary>Every owned initializer: ONNX name → current tensor.</summary>
    public IEnumerable<(string OnnxName, Tensor Value)> Initializers() =>
        _localByOnnxName.Select(kv => (kv.Key, Get(kv.Key)));
}
