using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Preprocessing;

namespace EdgeTL.Runtime.Features;

/// <summary>
/// Runs a frozen ONNX backbone over images and returns [N, D] features (row-major). Images go
/// through the model's own preprocessing into one reused batch buffer; batches are as large
/// as the model allows (a model with a fixed batch of 1 runs image by image).
/// </summary>
public sealed class FeatureExtractor
{
    private readonly OnnxModel _backbone;
    private readonly ImagePipeline _pipeline;
    private readonly int _batch;
    private readonly float[] _buffer;
    private readonly ImageDecoder _decoder = new();

    /// <summary>Wraps a loaded backbone and its preprocessing.</summary>
    public FeatureExtractor(OnnxModel backbone, ImagePipeline pipeline, int maxBatch = 32)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(pipeline);
        _backbone = backbone;
        _pipeline = pipeline;
        _batch = backbone.InputShape.Count > 0 && backbone.InputShape[0] > 0 ? backbone.InputShape[0] : Math.Max(1, maxBatch);
        _buffer = new float[_batch * pipeline.SampleLength];
        var probe = _backbone.Run(_buffer.AsMemory(0, _batch * pipeline.SampleLength), InputShape(_batch));
        FeatureDim = probe.Values.Length / _batch;
    }

    /// <summary>Width D of the features.</summary>
    public int FeatureDim { get; }

    /// <summary>The preprocessing applied to every image.</summary>
    public ImagePipeline Pipeline => _pipeline;

    /// <summary>Features of images <paramref name="indices"/> (all when null) of <paramref name="set"/>: [N, D].</summary>
    public float[] Extract(LabeledImageSet set, IReadOnlyList<int>? indices = null)
    {
        ArgumentNullException.ThrowIfNull(set);
        indices ??= Enumerable.Range(0, set.Count).ToArray();
        return Run(indices.Count, (i, destination) => _pipeline.Process(set, indices[i], destination, null));
    }

    /// <summary>Features of encoded images (JPEG, PNG …): [N, D].</summary>
    public float[] ExtractEncoded(IReadOnlyList<byte[]> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        return Run(images.Count, (i, destination) =>
        {
            var (rgb, height, width) = _decoder.Decode(images[i]);
            _pipeline.Process(rgb.Span, height, width, 3, destination, null);
        });
    }

    /// <summary>Features of raw HWC images.</summary>
    public float[] ExtractRaw(IReadOnlyList<(byte[] Hwc, int Height, int Width, int Channels)> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        return Run(images.Count, (i, destination) => _pipeline.Process(images[i].Hwc, images[i].Height, images[i].Width, images[i].Channels, destination, null));
    }

    private float[] Run(int count, Action<int, Span<float>> fill)
    {
        int sample = _pipeline.SampleLength;
        var features = new float[count * FeatureDim];
        for (int start = 0; start < count; start += _batch)
        {
            int n = Math.Min(_batch, count - start);
            for (int i = 0; i < n; i++)
                fill(start + i, _buffer.AsSpan(i * sample, sample));
            int rows = _backbone.InputShape.Count > 0 && _backbone.InputShape[0] > 0 ? _batch : n;
            var (values, _) = _backbone.Run(_buffer.AsMemory(0, rows * sample), InputShape(rows));
            values.AsSpan(0, n * FeatureDim).CopyTo(features.AsSpan(start * FeatureDim));
        }
        return features;
    }

    private int[] InputShape(int batch) => [batch, _pipeline.Options.Channels, _pipeline.Options.InputSize, _pipeline.Options.InputSize];
}
