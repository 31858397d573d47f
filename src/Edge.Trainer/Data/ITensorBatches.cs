using static TorchSharp.torch;

namespace EdgeTL.Trainer.Data;

/// <summary>
/// A source of (inputs, labels) tensor batches for one epoch at a time. Labels are int64 [N].
/// The caller owns, and disposes, every yielded tensor.
/// </summary>
public interface ITensorBatches
{
    /// <summary>Samples per epoch.</summary>
    int SampleCount { get; }

    /// <summary>Batches of epoch <paramref name="epoch"/> (shuffled and augmented as configured, seeded by epoch).</summary>
    IEnumerable<(Tensor Inputs, Tensor Labels)> Epoch(int epoch);
}
