using static TorchSharp.torch;

namespace EdgeTL.Trainer.Data;

/// <summary>
/// Backbone features computed once and kept as tensors: <see cref="Features"/> float32 [N, D],
/// <see cref="Labels"/> int64 [N]. Head-only training reads these instead of running the backbone.
/// </summary>
public sealed class FeatureSet : IDisposable
{
    /// <summary>Takes ownership of the two tensors.</summary>
    public FeatureSet(Tensor features, Tensor labels, int classCount)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.dim() != 2 || labels.dim() != 1 || features.shape[0] != labels.shape[0])
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape,
                $"Features must be [N, D] and labels [N]; got [{string.Join(", ", features.shape)}] and [{string.Join(", ", labels.shape)}].");
        if (features.shape[0] == 0)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, "The feature set has no samples.");
        Features = features;
        Labels = labels;
        ClassCount = classCount;
    }

    /// <summary>[N, D] float32.</summary>
    public Tensor Features { get; }
    /// <summary>[N] int64.</summary>
    public Tensor Labels { get; }
    /// <summary>Number of classes the labels index.</summary>
    public int ClassCount { get; }
    /// <summary>N.</summary>
    public int Count => (int)Features.shape[0];
    /// <summary>D.</summary>
    public int Dim => (int)Features.shape[1];
    /// <summary>Seconds the extraction took.</summary>
    public double ExtractionSeconds { get; init; }

    /// <summary>Batches over the cached features.</summary>
    public ITensorBatches Batches(int batchSize, bool shuffle, int seed) => new FeatureTensorBatches(this, batchSize, shuffle, seed);

    /// <inheritdoc />
    public void Dispose()
    {
        Features.Dispose();
        Labels.Dispose();
    }
}
