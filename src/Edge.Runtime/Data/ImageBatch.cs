namespace EdgeTL.Runtime.Data;

/// <summary>
/// One batch of processed images: <see cref="Inputs"/> is [Count, C, H, W] floats, row-major.
/// The buffers belong to the loader and are overwritten by the next batch: copy what you keep.
/// </summary>
public sealed class ImageBatch
{
    internal ImageBatch(int capacity, int channels, int size)
    {
        Inputs = new float[capacity * channels * size * size];
        Labels = new int[capacity];
        Indices = new int[capacity];
        Channels = channels;
        Size = size;
    }

    /// <summary>Processed images, CHW per sample; only the first <see cref="Count"/> samples are valid.</summary>
    public float[] Inputs { get; }
    /// <summary>Labels of the samples.</summary>
    public int[] Labels { get; }
    /// <summary>Indices of the samples in the source set.</summary>
    public int[] Indices { get; }
    /// <summary>Number of valid samples.</summary>
    public int Count { get; internal set; }
    /// <summary>Channels per sample.</summary>
    public int Channels { get; }
    /// <summary>Side of each (square) sample.</summary>
    public int Size { get; }
    /// <summary>Floats per sample.</summary>
    public int SampleLength => Channels * Size * Size;
    /// <summary>The valid part of <see cref="Inputs"/>.</summary>
    public ReadOnlySpan<float> ValidInputs => Inputs.AsSpan(0, Count * SampleLength);
    /// <summary>The valid part of <see cref="Labels"/>.</summary>
    public ReadOnlySpan<int> ValidLabels => Labels.AsSpan(0, Count);
}
