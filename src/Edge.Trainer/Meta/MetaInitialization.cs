using EdgeTL.Trainer.Models;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Meta;

/// <summary>
/// A meta-learned initialization of the seed head for N-way tasks on features of width d:
/// what a package ships so that a new deployment adapts from a few labelled samples.
/// </summary>
public sealed class MetaInitialization : IDisposable
{
    internal MetaInitialization(Tensor[] weights, MetaLearningOptions options)
    {
        Weights = weights;
        Options = options;
    }

    /// <summary>W1 [h, d], b1 [h], W2 [N, h], b2 [N].</summary>
    internal Tensor[] Weights { get; }

    /// <summary>How it was trained (ways, inner steps and rate to adapt with).</summary>
    public MetaLearningOptions Options { get; }

    /// <summary>d, the feature width.</summary>
    public int FeatureDim => (int)Weights[0].shape[1];

    /// <summary>N, the number of classes of a task.</summary>
    public int Ways => (int)Weights[2].shape[0];

    /// <summary>A new head holding these weights (dropout as in the seed head).</summary>
    public HeadModel CreateHead()
    {
        var head = HeadModel.Create(FeatureDim, Ways, new HeadOptions { Hidden = (int)Weights[0].shape[0] });
        var (hidden, output) = HeadWeights.Layers(head.Head);
        using var noGrad = no_grad();
        hidden.weight!.copy_(Weights[0]);
        hidden.bias!.copy_(Weights[1]);
        output.weight!.copy_(Weights[2]);
        output.bias!.copy_(Weights[3]);
        return head;
    }

    /// <summary>The weights under the seed head's state-dict names, for a package's head file.</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        using var head = CreateHead();
        return head.Head.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
    }

    /// <summary>Frees the weight tensors.</summary>
    public void Dispose()
    {
        foreach (var w in Weights)
            w.Dispose();
    }
}
