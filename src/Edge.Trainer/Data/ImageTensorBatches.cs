using EdgeTL.Runtime.Data;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Data;

/// <summary>Adapts a <see cref="BatchLoader"/> (plain float arrays) to tensors [B, C, S, S].</summary>
public sealed class ImageTensorBatches : ITensorBatches
{
    private readonly BatchLoader _loader;

    /// <summary>Wraps a loader.</summary>
    public ImageTensorBatches(BatchLoader loader)
    {
        ArgumentNullException.ThrowIfNull(loader);
        _loader = loader;
    }

    /// <summary>Batches for evaluation or feature extraction: fixed order, no augmentation.</summary>
    public static ImageTensorBatches ForEvaluation(LabeledImageSet set, Runtime.Preprocessing.ImagePipeline pipeline, int batchSize = 256) =>
        new(new BatchLoader(set, pipeline, batchSize, shuffle: false, augment: false, seed: 0));

    /// <inheritdoc />
    public int SampleCount => _loader.DropLast ? _loader.BatchesPerEpoch * _loader.BatchSize : _loader.Set.Count;

    /// <summary>The wrapped loader.</summary>
    public BatchLoader Loader => _loader;

    /// <inheritdoc />
    public IEnumerable<(Tensor Inputs, Tensor Labels)> Epoch(int epoch)
    {
        foreach (var batch in _loader.Epoch(epoch))
            yield return ToTensors(batch);
    }

    /// <summary>Copies a batch into new tensors: inputs float32 [B, C, S, S], labels int64 [B].</summary>
    public static (Tensor Inputs, Tensor Labels) ToTensors(ImageBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var inputs = empty([batch.Count, batch.Channels, batch.Size, batch.Size], ScalarType.Float32);
        // An undisposed accessor keeps the tensor's storage alive until a GC runs: dispose it.
        using (var accessor = inputs.data<float>())
            accessor.CopyFrom(batch.ValidInputs, 0, 0);
        var src = batch.ValidLabels;
        Span<long> wide = src.Length <= 1024 ? stackalloc long[src.Length] : new long[src.Length];
        for (int i = 0; i < src.Length; i++)
            wide[i] = src[i];
        var labels = empty([batch.Count], ScalarType.Int64);
        using (var accessor = labels.data<long>())
            accessor.CopyFrom(wide, 0, 0);
        return (inputs, labels);
    }
}
