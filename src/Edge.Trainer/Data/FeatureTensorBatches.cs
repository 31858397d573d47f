using static TorchSharp.torch;

namespace EdgeTL.Trainer.Data;

/// <summary>Seeded, shuffled mini-batches over a <see cref="FeatureSet"/>.</summary>
public sealed class FeatureTensorBatches : IIndexedTensorBatches
{
    private readonly FeatureSet _set;
    private readonly int _batchSize;
    private readonly bool _shuffle;
    private readonly int _seed;

    /// <summary>Creates batches of <paramref name="batchSize"/> rows.</summary>
    public FeatureTensorBatches(FeatureSet set, int batchSize, bool shuffle, int seed)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (batchSize < 1)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"Batch size must be ≥ 1, got {batchSize}.");
        _set = set;
        _batchSize = batchSize;
        _shuffle = shuffle;
        _seed = seed;
    }

    /// <inheritdoc />
    public int SampleCount => _set.Count;

    /// <inheritdoc />
    public bool InputsAreFixed => true;

    /// <inheritdoc />
    public IEnumerable<(Tensor Inputs, Tensor Labels)> Epoch(int epoch)
    {
        foreach (var (x, y, index) in IndexedEpoch(epoch))
        {
            index.Dispose();
            yield return (x, y);
        }
    }

    /// <inheritdoc />
    public IEnumerable<(Tensor Inputs, Tensor Labels, Tensor Indices)> IndexedEpoch(int epoch)
    {
        var order = Enumerable.Range(0, _set.Count).Select(i => (long)i).ToArray();
        if (_shuffle)
            new Random(unchecked((_seed * 1_000_003) + epoch)).Shuffle(order);
        for (int start = 0; start < order.Length; start += _batchSize)
        {
            int count = Math.Min(_batchSize, order.Length - start);
            var index = tensor(order.AsSpan(start, count).ToArray());
            yield return (_set.Features.index_select(0, index), _set.Labels.index_select(0, index), index);
        }
    }
}
