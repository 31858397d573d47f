using static TorchSharp.torch;

namespace EdgeTL.Trainer.Data;

/// <summary>Seeded, shuffled batches of preprocessed images kept as rows [N, C·H·W], handed to the network as [n, C, H, W].</summary>
public sealed class ImageRowBatches(FeatureSet rows, int channels, int side, int batchSize, bool shuffle, int seed) : IIndexedTensorBatches
{
    private readonly FeatureTensorBatches _rows = new(rows, batchSize, shuffle, seed);

    /// <inheritdoc />
    public int SampleCount => _rows.SampleCount;

    /// <inheritdoc />
    public bool InputsAreFixed => true;

    /// <inheritdoc />
    public IEnumerable<(Tensor Inputs, Tensor Labels)> Epoch(int epoch)
    {
        foreach (var (x, y) in _rows.Epoch(epoch))
            yield return (AsImages(x), y);
    }

    /// <inheritdoc />
    public IEnumerable<(Tensor Inputs, Tensor Labels, Tensor Indices)> IndexedEpoch(int epoch)
    {
        foreach (var (x, y, index) in _rows.IndexedEpoch(epoch))
            yield return (AsImages(x), y, index);
    }

    private Tensor AsImages(Tensor rows)
    {
        var images = rows.view(-1, channels, side, side);
        rows.Dispose();
        return images;
    }
}
