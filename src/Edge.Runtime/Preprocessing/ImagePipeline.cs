using EdgeTL.Runtime.Data;

namespace EdgeTL.Runtime.Preprocessing;

/// <summary>
/// Turns one 8-bit HWC image into a normalized CHW float input: crop (random-resized when
/// augmenting, centre otherwise), bilinear resize, grayscale → N channels, flip,
/// brightness/contrast, extra transforms, then (x − mean)/std. Writes into a caller's buffer
/// and allocates nothing per image.
/// </summary>
public sealed class ImagePipeline
{
    private readonly ImagePipelineOptions _options;

    /// <summary>Creates a pipeline and validates its options.</summary>
    public ImagePipeline(ImagePipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.InputSize < 1)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, $"Input size must be positive, got {options.InputSize}.");
        if (options.Channels is not (1 or 3))
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, $"Model channels must be 1 or 3, got {options.Channels}.");
        if (!(options.CenterCropFraction > 0f && options.CenterCropFraction <= 1f))
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, $"Centre-crop fraction must be in (0, 1], got {options.CenterCropFraction}.");
        options.Normalization.Validate(options.Channels);
        _options = options;
    }

    /// <summary>The options this pipeline applies.</summary>
    public ImagePipelineOptions Options => _options;

    /// <summary>Floats per processed image: Channels × InputSize × InputSize.</summary>
    public int SampleLength => _options.Channels * _options.InputSize * _options.InputSize;

    /// <summary>Processes image <paramref name="index"/> of <paramref name="set"/> into <paramref name="destination"/>.</summary>
    /// <param name="set">Source images.</param>
    /// <param name="index">Which image.</param>
    /// <param name="destination">CHW output of <see cref="SampleLength"/> floats.</param>
    /// <param name="random">Randomness for augmentation; null means evaluation (no augmentation).</param>
    public void Process(LabeledImageSet set, int index, Span<float> destination, Random? random)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (set.Channels != 1 && set.Channels != _options.Channels)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidImageShape,
                $"Images have {set.Channels} channels; the model expects {_options.Channels} (or 1, repeated).");
        Process(set.Image(index), set.Height, set.Width, set.Channels, destination, random);
    }

    /// <summary>Processes one raw HWC image.</summary>
    public void Process(ReadOnlySpan<byte> hwc, int height, int width, int channels, Span<float> destination, Random? random)
    {
        if (hwc.Length != height * width * channels || channels is not (1 or 3))
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidImageShape,
                $"Image of {hwc.Length} bytes does not match {height}×{width}×{channels} (channels must be 1 or 3).");
        if (destination.Length != SampleLength)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, $"Destination holds {destination.Length} floats, {SampleLength} needed.");

        var aug = random is null ? null : _options.Augmentation;
        var (x0, y0, cw, ch) = aug is null ? CenterCrop(height, width) : RandomCrop(height, width, aug, random!);
        bool flip = aug is not null && random!.NextSingle() < aug.FlipProbability;
        int size = _options.InputSize;
        int outChannels = _options.Channels;
        ResizeBilinear(hwc, height, width, channels, x0, y0, cw, ch, flip, destination, size, outChannels, _options.Bgr);

        if (aug is not null)
        {
            Jitter(destination, aug, random!);
            foreach (var extra in aug.Extra)
                extra.Apply(destination, outChannels, size, size, random!);
        }
        Normalize(destination, outChannels, size * size);
    }

    private (float X0, float Y0, float W, float H) CenterCrop(int height, int width)
    {
        float f = _options.CenterCropFraction;
        float side = Math.Min(height, width) * f;
        if (f >= 1f)
            return (0f, 0f, width, height);
        return ((width - side) / 2f, (height - side) / 2f, side, side);
    }

    private static (float X0, float Y0, float W, float H) RandomCrop(int height, int width, AugmentationOptions aug, Random random)
    {
        float area = height * width;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            float target = area * Lerp(aug.CropScaleMin, aug.CropScaleMax, random.NextSingle());
            float logRatio = Lerp(MathF.Log(aug.CropRatioMin), MathF.Log(aug.CropRatioMax), random.NextSingle());
            float ratio = MathF.Exp(logRatio);
            float w = MathF.Sqrt(target * ratio);
            float h = MathF.Sqrt(target / ratio);
            if (w <= width && h <= height)
                return (random.NextSingle() * (width - w), random.NextSingle() * (height - h), w, h);
        }
        return (0f, 0f, width, height);
    }

    private static void ResizeBilinear(ReadOnlySpan<byte> src, int height, int width, int channels,
        float x0, float y0, float cropW, float cropH, bool flip, Span<float> dst, int size, int outChannels, bool bgr)
    {
        float sx = cropW / size, sy = cropH / size;
        int plane = size * size;
        for (int oy = 0; oy < size; oy++)
        {
            float fy = Math.Clamp(y0 + ((oy + 0.5f) * sy) - 0.5f, 0f, height - 1);
            int iy0 = (int)fy;
            int iy1 = Math.Min(iy0 + 1, height - 1);
            float wy = fy - iy0;
            for (int ox = 0; ox < size; ox++)
            {
                int tx = flip ? size - 1 - ox : ox;
                float fx = Math.Clamp(x0 + ((tx + 0.5f) * sx) - 0.5f, 0f, width - 1);
                int ix0 = (int)fx;
                int ix1 = Math.Min(ix0 + 1, width - 1);
                float wx = fx - ix0;
                int o = (oy * size) + ox;
                for (int c = 0; c < outChannels; c++)
                {
                    int sc = channels == 1 ? 0 : bgr && outChannels == 3 ? 2 - c : c;
                    float a = src[(((iy0 * width) + ix0) * channels) + sc];
                    float b = src[(((iy0 * width) + ix1) * channels) + sc];
                    float d = src[(((iy1 * width) + ix0) * channels) + sc];
                    float e = src[(((iy1 * width) + ix1) * channels) + sc];
                    float top = a + ((b - a) * wx);
                    float bottom = d + ((e - d) * wx);
                    dst[(c * plane) + o] = (top + ((bottom - top) * wy)) * (1f / 255f);
                }
            }
        }
    }

    private static void Jitter(Span<float> image, AugmentationOptions aug, Random random)
    {
        float brightness = 1f + (aug.Brightness * ((2f * random.NextSingle()) - 1f));
        float contrast = 1f + (aug.Contrast * ((2f * random.NextSingle()) - 1f));
        float mean = 0f;
        foreach (float v in image)
            mean += v;
        mean /= image.Length;
        for (int i = 0; i < image.Length; i++)
            image[i] = Math.Clamp((((image[i] * brightness) - mean) * contrast) + mean, 0f, 1f);
    }

    private void Normalize(Span<float> image, int channels, int plane)
    {
        var n = _options.Normalization;
        for (int c = 0; c < channels; c++)
        {
            float mean = n.Mean[c], inv = 1f / n.Std[c];
            var p = image.Slice(c * plane, plane);
            for (int i = 0; i < p.Length; i++)
                p[i] = (p[i] - mean) * inv;
        }
    }

    private static float Lerp(float a, float b, float t) => a + ((b - a) * t);
}
