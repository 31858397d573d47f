using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Training.Optim;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Training.Precision;

/// <summary>
/// Mixed precision without autocast: the network computes in bf16 or fp16 (BatchNorm stays
/// fp32), while fp32 master copies of every parameter are what the optimizer updates. Each
/// step pushes the masters into the network, and pulls the network's gradients back as fp32,
/// unscaled, with a finite check. Masters are keyed by parameter name, because changing a
/// module's dtype replaces its parameter objects.
/// </summary>
internal sealed class MasterWeights : IDisposable
{
    private readonly nn.Module _network;
    private readonly Dictionary<string, Parameter> _masters = new(StringComparer.Ordinal);
    private readonly Dictionary<Parameter, string> _nameOf = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Parameter, Tensor> _gradients = new(ReferenceEqualityComparer.Instance);

    public MasterWeights(nn.Module network, ScalarType compute)
    {
        _network = network;
        Compute = compute;
        using (no_grad())
        {
            foreach (var (name, p) in network.named_parameters())
                _masters[name] = new Parameter(p.detach().to(ScalarType.Float32).clone(), requires_grad: p.requires_grad);
        }
        Reconvert();
    }

    public ScalarType Compute { get; }

    /// <summary>The fp32 master of a network parameter.</summary>
    public Parameter MasterOf(Parameter p) => _masters[_nameOf[p]];

    /// <summary>Copies (and casts) the masters of <paramref name="parameters"/> into the network.</summary>
    public void Push(IEnumerable<Parameter> parameters)
    {
        using var noGrad = no_grad();
        foreach (var p in parameters)
        {
            // libtorch's copy_ casts in one vectorized, parallel pass, rounding to nearest even.
            p.copy_(MasterOf(p));
        }
    }

    /// <summary>
    /// Moves the network's gradients of <paramref name="parameters"/> into the masters as fp32,
    /// multiplied by <paramref name="factor"/> (1/scale), adding to what is there when
    /// <paramref name="accumulate"/>. Returns false when any gradient is inf or NaN. On the CPU
    /// this is one pass per parameter into a gradient buffer kept for the whole run.
    /// </summary>
    public bool PullGradients(IEnumerable<Parameter> parameters, double factor, bool accumulate)
    {
        bool finite = true;
        using var noGrad = no_grad();
        foreach (var p in parameters)
        {
            if (p.grad is not { } g)
                continue;
            var master = MasterOf(p);
            bool add = accumulate && master.grad is not null;
            if (!_gradients.TryGetValue(master, out var buffer))
            {
                buffer = zeros_like(master).DetachFromDisposeScope();
                _gradients[master] = buffer;
            }
            if (FusedKernels.TryWidenScaled(g, buffer, (float)factor, add) is { } fusedFinite)
            {
                finite &= fusedFinite;
            }
            else
            {
                using var scope = NewDisposeScope();
                var g32 = g.to(ScalarType.Float32) * factor;
                if (add)
                    buffer.add_(g32);
                else
                    buffer.copy_(g32);
                finite &= buffer.isfinite().all().item<bool>();
            }
            master.grad = buffer;
            p.grad = null;
        }
        return finite;
    }

    /// <summary>Drops the masters' gradients.</summary>
    public void ZeroMasterGradients()
    {
        foreach (var m in _masters.Values)
            m.grad = null;
    }

    /// <summary>The network's state with fp32 master values in place of the parameters.</summary>
    public Dictionary<string, Tensor> State()
    {
        using var noGrad = no_grad();
        return _network.state_dict().ToDictionary(
            kv => kv.Key,
            kv => (_masters.TryGetValue(kv.Key, out var m) ? (Tensor)m : kv.Value).detach().clone().DetachFromDisposeScope());
    }

    /// <summary>Returns the network to fp32 holding exactly the master values.</summary>
    public void Restore()
    {
        _network.to(ScalarType.Float32);
        Rekey();
        using var noGrad = no_grad();
        foreach (var (name, p) in _network.named_parameters())
            p.copy_(_masters[name]);
    }

    /// <summary>Converts the network to the compute type again (BatchNorm stays fp32).</summary>
    public void Reconvert()
    {
        _network.to(Compute);
        foreach (var m in _network.modules().Where(IsBatchNorm))
            m.to(ScalarType.Float32);
        Rekey();
        Push(_nameOf.Keys);
    }

    public void Dispose()
    {
        foreach (var m in _masters.Values)
            m.Dispose();
        foreach (var g in _gradients.Values)
            g.Dispose();
    }

    private void Rekey()
    {
        _nameOf.Clear();
        foreach (var (name, p) in _network.named_parameters())
            _nameOf[p] = name;
    }

    private static bool IsBatchNorm(nn.Module m) =>
        m is BatchNorm1d or BatchNorm2d or BatchNorm3d || (m is OnnxNodeModule node && node.OpType == "BatchNormalization");
}
