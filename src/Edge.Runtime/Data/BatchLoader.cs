using EdgeTL.Runtime.Preprocessing;

namespace EdgeTL.Runtime.Data;

/// <summary>
/// Yields batches of a <see cref="LabeledImageSet"/> through an <see cref="ImagePipeline"/>.
/// Shuffling and augmentation are seeded by (seed, epoch), so a run is reproducible.
/// Steady state allocates nothing: one <see cref="ImageBatch"/> is reused.
/// </summary>
public sealed class BatchLoader
{
    private readonly LabeledImageSet _set;
    private readonly ImagePipeline _pipeline;
    private readonly ImageBatch _batch;

    /// <summary>Creates a loader.</summary>
    /// <param name="set">The samples; must not be empty.</param>
    /// <param name="pipeline">Preprocessing.</param>
    /// <param name="batchSize">Samples per batch (the last batch may be smaller unless <paramref name="dropLast"/>).</param>
    /// <param name="shuffle">Reorder the samples every epoch.</param>
    /// <param name="augment">Apply the pipeline's augmentation.</param>
    /// <param name="seed">Seed of shuffling and augmentation.</param>
    /// <param name="dropLast">Skip a final incomplete batch.</param>
    public BatchLoader(LabeledImageSet set, ImagePipeline pipeline, int batchSize, bool shuffle, bool augment, int seed, bool dropLast = false)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(pipeline);
        if (set.Count == 0)
            throw EdgeRuntimeException.Empty("The dataset");
        if (batchSize < 1)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, $"Batch size must be ≥ 1, got {batchSize}.");
        if (set.Channels != 1 && set.Channels != pipeline.Options.Channels)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidImageShape,
                $"Images have {set.Channels} channels; the model expects {pipeline.Options.Channels} (or 1, repeated).");
        _set = set;
        _pipeline = pipeline;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Augment = augment;
        Seed = seed;
        DropLast = dropLast && set.Count >= batchSize;
        _batch = new ImageBatch(batchSize, pipeline.Options.Channels, pipeline.Options.InputSize);
    }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }
    /// <summary>Whether samples are reordered every epoch.</summary>
    public bool Shuffle { get; }
    /// <summary>Whether augmentation is applied.</summary>
    public bool Augment { get; }
    /// <summary>Seed of shuffling and augmentation.</summary>
    public int Seed { get; }
    /// <summary>Whether a final incomplete batch is skipped.</summary>
    public bool DropLast { get; }
    /// <summary>The underlying samples.</summary>
    public LabeledImageSet Set => _set;
    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch => DropLast ? _set.Count / BatchSize : (_set.Count + BatchSize - 1) / BatchSize;

    /// <summary>The batches of one epoch. Each yielded batch is valid until the next one is requested.</summary>
    public IEnumerable<ImageBatch> Epoch(int epoch)
    {
        var order = Enumerable.Range(0, _set.Count).ToArray();
        var random = new Random(unchecked((Seed * 1_000_003) + epoch)); // deterministic across processes, unlike HashCode
        if (Shuffle)
            random.Shuffle(order);
        var augmentRandom = Augment ? random : null;
        int length = _pipeline.SampleLength;
        for (int start = 0; start < order.Length; start += BatchSize)
        {
            int count = Math.Min(BatchSize, order.Length - start);
            if (count < BatchSize && DropLast)
                yield break;
            for (int i = 0; i < count; i++)
            {
                int index = order[start + i];
                _pipeline.Process(_set, index, _batch.Inputs.AsSpan(i * length, length), augmentRandom);
                _batch.Labels[i] = _set.Labels[index];
                _batch.Indices[i] = index;
            }
            _batch.Count = count;
            yield return _batch;
        }
    }
}
