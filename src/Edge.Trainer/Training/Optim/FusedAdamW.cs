using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Training.Optim;

/// <summary>
/// AdamW (Loshchilov and Hutter; PyTorch's defaults and update rule, amsgrad off) over groups
/// with their own learning rate. On the CPU each dense parameter is updated by one fused pass
/// (<see cref="FusedKernels.AdamW"/>); parameters elsewhere (CUDA) or with unusual layouts take
/// the same update written as tensor ops. Parameters without a gradient are skipped, as in PyTorch.
/// </summary>
internal sealed class FusedAdamW : IDisposable
{
    private readonly List<Group> _groups = [];
    private readonly Dictionary<Parameter, State> _state = new(ReferenceEqualityComparer.Instance);

    public FusedAdamW(double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01)
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
    }

    public double Beta1 { get; }

    public double Beta2 { get; }

    public double Eps { get; }

    public double WeightDecay { get; }

    /// <summary>Adds a group of parameters trained at <paramref name="learningRate"/>.</summary>
    public Group AddGroup(IReadOnlyList<Parameter> parameters, double learningRate)
    {
        var group = new Group(parameters, learningRate);
        _groups.Add(group);
        return group;
    }

    /// <summary>Drops every gradient (PyTorch's <c>set_to_none</c>).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _groups.SelectMany(g => g.Parameters))
            p.grad = null;
    }

    /// <summary>One update of every parameter that has a gradient.</summary>
    public unsafe void Step()
    {
        using var noGrad = no_grad();
        foreach (var group in _groups)
        {
            foreach (var p in group.Parameters)
            {
                if (p.grad is not { } grad)
                    continue;
                if (!_state.TryGetValue(p, out var s))
                {
                    s = new State(zeros_like(p).DetachFromDisposeScope(), zeros_like(p).DetachFromDisposeScope());
                    _state[p] = s;
                }
                s.Step++;
                double bias1 = 1 - Math.Pow(Beta1, s.Step);
                double bias2 = 1 - Math.Pow(Beta2, s.Step);
                double stepSize = group.LearningRate / bias1;
                double decay = 1 - (group.LearningRate * WeightDecay);
                if (p.dtype == ScalarType.Float32 && HostTensor.SameDenseLayout(p, grad, s.Avg, s.AvgSq))
                {
                    var constants = new FusedKernels.AdamWStep((float)Beta1, (float)Beta2, (float)Eps, (float)stepSize, (float)decay, (float)(1 / Math.Sqrt(bias2)));
                    FusedKernels.AdamW((float*)HostTensor.Data(p), (float*)HostTensor.Data(grad), (float*)HostTensor.Data(s.Avg), (float*)HostTensor.Data(s.AvgSq), p.numel(), constants);
                }
                else
                {
                    using var scope = NewDisposeScope();
                    p.mul_(decay);
                    s.Avg.mul_(Beta1).add_(grad, alpha: 1 - Beta1);
                    s.AvgSq.mul_(Beta2).addcmul_(grad, grad, value: 1 - Beta2);
                    var denom = (s.AvgSq.sqrt() / Math.Sqrt(bias2)).add_(Eps);
                    p.addcdiv_(s.Avg, denom, value: -stepSize);
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var s in _state.Values)
        {
            s.Avg.Dispose();
            s.AvgSq.Dispose();
        }
        _state.Clear();
    }

    /// <summary>Parameters sharing one learning rate.</summary>
    internal sealed class Group(IReadOnlyList<Parameter> parameters, double learningRate)
    {
        public IReadOnlyList<Parameter> Parameters { get; } = parameters;

        public double LearningRate { get; set; } = learningRate;
    }

    private sealed class State(Tensor avg, Tensor avgSq)
    {
        public Tensor Avg { get; } = avg;

        public Tensor AvgSq { get; } = avgSq;

        public long Step { get; set; }
    }
}
