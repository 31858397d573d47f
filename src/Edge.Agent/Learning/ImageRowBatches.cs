using EdgeTL.Trainer.Data;
using static TorchSharp.torch;

namespace EdgeTL.Agent.Learning;

/// <summary>Seeded, shuffled batches of preprocessed images kept as rows [N, C·H·W], handed to the network as [n, C, H, W].</summary>
public sealed class ImageRowBatches(FeatureSet rows, int channels, int side, int batchSize, bool shuffle, int seed) : ITensorBatches
{
    private readonly FeatureTensorBatches _rows = new(rows, batchSize, shuffle, seed);

    /// <inheritdoc />
    public int SampleCount => _rows.SampleCount;

    /// <inheritdoc />
    public IEnumerable<(Tensor Inputs, Tensor Labels)> Epoch(int epoch)
    {
        foreach (var (x, y) in _rows.Epoch(epoch))
        {
            var images = x.view(-1, channels, side, side);
            x.Dispose();
            yield return (images, y);
        }
    }
}
