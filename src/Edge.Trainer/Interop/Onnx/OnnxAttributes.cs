using System.Globalization;
using Onnx;

namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>Typed access to a node's attributes, with defaults and errors that name the node.</summary>
internal sealed class OnnxAttributes
{
    private readonly Dictionary<string, AttributeProto> _byName;

    public OnnxAttributes(NodeProto node, string context)
    {
        Context = context;
        _byName = node.Attribute.GroupBy(a => a.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
    }

    public string Context { get; }

    public bool Has(string name) => _byName.ContainsKey(name);

    public long Int(string name, long fallback) => _byName.TryGetValue(name, out var a) ? a.I : fallback;

    public float Float(string name, float fallback) => _byName.TryGetValue(name, out var a) ? a.F : fallback;

    public string String(string name, string fallback) =>
        _byName.TryGetValue(name, out var a) && a.S.Length > 0 ? a.S.ToStringUtf8() : fallback;

    public long[]? Ints(string name) => _byName.TryGetValue(name, out var a) ? [.. a.Ints] : null;

    public float[]? Floats(string name) => _byName.TryGetValue(name, out var a) ? [.. a.Floats] : null;

    public TensorProto? Tensor(string name) => _byName.TryGetValue(name, out var a) ? a.T : null;

    /// <summary>An error for an attribute value the importer does not support.</summary>
    public EdgeTrainerException Unsupported(string what) =>
        new(TrainerErrorCode.UnsupportedOnnxOperator, $"{Context}: {what} is not supported.");

    public static string Format(IEnumerable<long> values) =>
        "[" + string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]";
}
