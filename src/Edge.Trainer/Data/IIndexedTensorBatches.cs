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

    /// <summary>
    /// The batches of <see cref="ITensorBatches.Epoch"/> as their labels and sample indices [n] (int64, 0 ≤ i &lt; <see cref="ITensorBatches.SampleCount"/>),
    /// without their inputs: a trainer that keeps what a frozen prefix makes of each sample loads an input (<see cref="InputsOf"/>) only when it needs it.
    /// </summary>
    IEnumerable<(Tensor Labels, Tensor Indices)> IndexedEpoch(int epoch);

    /// <summary>The inputs of the samples at <paramref name="indices"/>, batched as <see cref="ITensorBatches.Epoch"/> batches them.</summary>
    Tensor InputsOf(Tensor indices);
}
