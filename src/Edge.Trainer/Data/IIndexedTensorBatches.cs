using static TorchSharp.torch;

namespace EdgeTL.Trainer.Data;

/// <summary>
/// Batches that say which samples they hold, for a trainer that keeps per-sample results across epochs
/// (<see cref="Training.FrozenPrefixCache"/>).
/// </summary>
public interface IIndexedTensorBatches : ITensorBatches
{
    /// <summary>Whether a sample's input is the same in every epoch (no augmentation): only then may what a frozen layer makes of it be kept.</summary>
    bool InputsAreFixed { get; }

    /// <summary>The batches of <see cref="ITensorBatches.Epoch"/>, each with the sample indices [n] (int64, 0 ≤ i &lt; <see cref="ITensorBatches.SampleCount"/>) of its rows.</summary>
    IEnumerable<(Tensor Inputs, Tensor Labels, Tensor Indices)> IndexedEpoch(int epoch);
}
