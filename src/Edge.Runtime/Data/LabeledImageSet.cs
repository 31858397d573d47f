namespace EdgeTL.Runtime.Data;

/// <summary>
/// An in-memory set of same-sized 8-bit images with integer labels.
/// Pixels are stored image after image in HWC order (row-major, channels interleaved),
/// so a 28×28 grayscale set of N images holds N·784 bytes.
/// </summary>
public sealed class LabeledImageSet
{
    /// <summary>Creates a set and checks that pixels, labels and class names agree.</summary>
    public LabeledImageSet(byte[] pixels, int[] labels, int height, int width, int channels, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (height < 1 || width < 1)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidImageShape, $"Image size must be positive, got {height}×{width}.");
        if (channels is not (1 or 3))
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidImageShape, $"Images must have 1 or 3 channels, got {channels}.");
        long expected = (long)labels.Length * height * width * channels;
        if (pixels.LongLength != expected)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidImageShape,
                $"{labels.Length} images of {height}×{width}×{channels} need {expected} bytes, got {pixels.LongLength}.");
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classNames.Count)
                throw new EdgeRuntimeException(RuntimeErrorCode.LabelOutOfRange,
                    $"Label {labels[i]} of sample {i} is outside [0, {classNames.Count}).");
        }
        Pixels = pixels;
        Labels = labels;
        Height = height;
        Width = width;
        Channels = channels;
        ClassNames = classNames;
    }

    /// <summary>Image bytes, HWC, one image after another.</summary>
    public byte[] Pixels { get; }
    /// <summary>One label per image, in [0, ClassCount).</summary>
    public int[] Labels { get; }
    /// <summary>Image height in pixels.</summary>
    public int Height { get; }
    /// <summary>Image width in pixels.</summary>
    public int Width { get; }
    /// <summary>1 (grayscale) or 3 (RGB).</summary>
    public int Channels { get; }
    /// <summary>Names of the classes; a label indexes this list.</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;
    /// <summary>Number of classes.</summary>
    public int ClassCount => ClassNames.Count;
    /// <summary>Bytes per image.</summary>
    public int ImageBytes => Height * Width * Channels;

    /// <summary>The bytes of image <paramref name="index"/> (HWC).</summary>
    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * ImageBytes, ImageBytes);

    /// <summary>
    /// The same images with inverted intensities (255 − value): light garments on dark become dark
    /// on light. A real, strong domain shift for adaptation and drift experiments.
    /// </summary>
    public LabeledImageSet Inverted() =>
        new([.. Pixels.Select(p => (byte)(255 - p))], Labels, Height, Width, Channels, ClassNames);

    /// <summary>This set's images followed by <paramref name="other"/>'s (same shape and classes).</summary>
    public LabeledImageSet Concat(LabeledImageSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Height != Height || other.Width != Width || other.Channels != Channels || !other.ClassNames.SequenceEqual(ClassNames))
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument,
                $"Cannot join a {other.Channels}×{other.Height}×{other.Width} set of [{string.Join(", ", other.ClassNames)}] to a {Channels}×{Height}×{Width} set of [{string.Join(", ", ClassNames)}].");
        return new([.. Pixels, .. other.Pixels], [.. Labels, .. other.Labels], Height, Width, Channels, ClassNames);
    }

    /// <summary>
    /// A copy with each image's contrast scaled by <paramref name="contrast"/> around its own mean
    /// intensity (as torchvision's <c>adjust_contrast</c>), plus Gaussian noise of standard deviation
    /// <paramref name="sigma"/> (fractions of full scale), clipped and rounded to bytes: a cheap
    /// sensor in poor light. Seeded, so the same call gives the same images.
    /// </summary>
    public LabeledImageSet NoisyLowContrast(double sigma, double contrast, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[Pixels.Length];
        for (int i = 0; i < Count; i++)
        {
            var source = Image(i);
            double mean = 0;
            foreach (byte p in source)
                mean += p;
            mean /= source.Length;
            var target = pixels.AsSpan(i * ImageBytes, ImageBytes);
            for (int j = 0; j < source.Length; j++)
            {
                double gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                double value = mean + contrast * (source[j] - mean) + 255 * sigma * gaussian;
                target[j] = (byte)Math.Clamp(Math.Round(value), 0, 255);
            }
        }
        return new(pixels, Labels, Height, Width, Channels, ClassNames);
    }

    /// <summary>Image <paramref name="index"/> as PNG bytes (what a camera or a sender would transmit); 1 or 3 channels.</summary>
    public byte[] EncodePng(int index)
    {
        if (Channels is not (1 or 3))
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, $"PNG encoding takes 1 or 3 channels, not {Channels}.");
        var info = new SkiaSharp.SKImageInfo(Width, Height, Channels == 1 ? SkiaSharp.SKColorType.Gray8 : SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque);
        using var bitmap = new SkiaSharp.SKBitmap(info);
        var target = bitmap.GetPixelSpan();
        var source = Image(index);
        if (Channels == 1)
        {
            source.CopyTo(target);
        }
        else
        {
            for (int i = 0, o = 0; i < source.Length; i += 3, o += 4)
            {
                target[o] = source[i];
                target[o + 1] = source[i + 1];
                target[o + 2] = source[i + 2];
                target[o + 3] = 255;
            }
        }
        using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A new set holding the given samples, in the given order.</summary>
    public LabeledImageSet Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var pixels = new byte[(long)indices.Count * ImageBytes];
        var labels = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            int src = indices[i];
            if ((uint)src >= (uint)Count)
                throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, $"Sample index {src} is outside [0, {Count}).");
            Image(src).CopyTo(pixels.AsSpan(i * ImageBytes, ImageBytes));
            labels[i] = Labels[src];
        }
        return new LabeledImageSet(pixels, labels, Height, Width, Channels, ClassNames);
    }

    /// <summary>
    /// Keeps only the given classes and renumbers them 0..k-1 in the order given,
    /// e.g. classes [5,6,7,8,9] become labels [0,1,2,3,4].
    /// </summary>
    public LabeledImageSet SelectClasses(IReadOnlyList<int> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Count == 0)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, "At least one class must be selected.");
        var map = new Dictionary<int, int>();
        foreach (int c in classes)
        {
            if ((uint)c >= (uint)ClassCount)
                throw new EdgeRuntimeException(RuntimeErrorCode.LabelOutOfRange, $"Class {c} is outside [0, {ClassCount}).");
            if (!map.TryAdd(c, map.Count))
                throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, $"Class {c} is selected twice.");
        }
        var keep = new List<int>();
        for (int i = 0; i < Count; i++)
        {
            if (map.ContainsKey(Labels[i]))
                keep.Add(i);
        }
        if (keep.Count == 0)
            throw EdgeRuntimeException.Empty($"The selection of classes [{string.Join(",", classes)}]");
        var picked = Subset(keep);
        var labels = picked.Labels.Select(l => map[l]).ToArray();
        var names = classes.Select(c => ClassNames[c]).ToArray();
        return new LabeledImageSet(picked.Pixels, labels, Height, Width, Channels, names);
    }

    /// <summary>
    /// Takes <paramref name="perClass"/> samples of every class, chosen at random with
    /// <paramref name="seed"/>; the result is ordered by class, then by original index.
    /// </summary>
    public LabeledImageSet SamplePerClass(int perClass, int seed)
    {
        if (perClass < 1)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, $"Samples per class must be ≥ 1, got {perClass}.");
        var rng = new Random(seed);
        var chosen = new List<int>();
        for (int c = 0; c < ClassCount; c++)
        {
            var ofClass = Enumerable.Range(0, Count).Where(i => Labels[i] == c).ToArray();
            if (ofClass.Length < perClass)
                throw new EdgeRuntimeException(RuntimeErrorCode.EmptyDataset,
                    $"Class {c} ('{ClassNames[c]}') has {ofClass.Length} samples, {perClass} requested.");
            rng.Shuffle(ofClass);
            chosen.AddRange(ofClass.Take(perClass).Order());
        }
        return Subset(chosen);
    }

    /// <summary>
    /// Splits the set at random (seeded) into a part of <paramref name="fraction"/> of the
    /// samples of each class and the rest, e.g. a validation split held out of training data.
    /// </summary>
    public (LabeledImageSet Remainder, LabeledImageSet Part) SplitPerClass(double fraction, int seed)
    {
        if (!(fraction > 0 && fraction < 1))
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, $"Split fraction must be in (0, 1), got {fraction}.");
        var rng = new Random(seed);
        var part = new List<int>();
        var rest = new List<int>();
        for (int c = 0; c < ClassCount; c++)
        {
            var ofClass = Enumerable.Range(0, Count).Where(i => Labels[i] == c).ToArray();
            rng.Shuffle(ofClass);
            int take = (int)Math.Round(ofClass.Length * fraction);
            part.AddRange(ofClass.Take(take));
            rest.AddRange(ofClass.Skip(take));
        }
        if (part.Count == 0 || rest.Count == 0)
            throw EdgeRuntimeException.Empty($"A {fraction:P0} split of {Count} samples");
        return (Subset(rest.Order().ToArray()), Subset(part.Order().ToArray()));
    }

    /// <summary>Number of samples of each class.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassCount];
        foreach (int l in Labels)
            counts[l]++;
        return counts;
    }
}
