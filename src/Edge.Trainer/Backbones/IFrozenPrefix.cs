using static TorchSharp.torch;

namespace EdgeTL.Trainer.Backbones;

/// <summary>
/// A backbone that can split its forward pass where its frozen prefix ends, so a trainer can keep
/// what the prefix makes of each sample and run only the layers that learn
/// (<see cref="Training.FrozenPrefixCache"/>).
/// </summary>
public interface IFrozenPrefix
{
    /// <summary>Where the frozen prefix ends now: the first step that has a trainable parameter (0: nothing is frozen).</summary>
    int FrozenPrefixLength { get; }

    /// <summary>Whether exactly one value crosses the cut at <paramref name="cut"/> (only then can it be cached as one tensor per sample).</summary>
    bool CanSplitAt(int cut);

    /// <summary>[N, C, H, W] images → the value that crosses the cut at <paramref name="cut"/>, computed without gradients.</summary>
    Tensor ForwardPrefix(Tensor input, int cut);

    /// <summary>The value that crosses the cut at <paramref name="cut"/> → [N, D] pooled features, as <see cref="IBackbone.ForwardFeatures"/> would give them.</summary>
    Tensor ForwardFeaturesFrom(Tensor prefix, int cut);
}
