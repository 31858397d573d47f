using static TorchSharp.torch;

namespace EdgeTL.Trainer.Meta;

/// <summary>
/// The seed head <c>Linear(d, h)-ReLU-Dropout-Linear(h, N)</c> as four explicit tensors, so the
/// meta-learners can run it with "fast" (adapted) weights: W1 [h, d], b1 [h], W2 [N, h], b2 [N].
/// Dropout is left out of functional passes (inner loops are deterministic).
/// </summary>
internal static class HeadWeights
{
    /// <summary>features [n, d] → logits [n, N] with weights (W1, b1, W2, b2).</summary>
    public static Tensor Forward(Tensor features, IReadOnlyList<Tensor> w) =>
        nn.functional.linear(nn.functional.relu(nn.functional.linear(features, w[0], w[1])), w[2], w[3]);

    /// <summary>The two Linear layers of a seed head module, in order.</summary>
    public static (TorchSharp.Modules.Linear Hidden, TorchSharp.Modules.Linear Output) Layers(nn.Module head)
    {
        var linears = head.modules().OfType<TorchSharp.Modules.Linear>().ToArray();
        if (linears.Length != 2)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration,
                $"A meta-learned initialization fits the seed head (two Linear layers); this head has {linears.Length}.");
        return (linears[0], linears[1]);
    }
}
