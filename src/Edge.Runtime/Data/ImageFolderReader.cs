using SkiaSharp;

namespace EdgeTL.Runtime.Data;

/// <summary>
/// Reads a folder laid out as <c>root/&lt;class&gt;/&lt;image&gt;.png|jpg|jpeg|bmp|webp</c>.
/// Classes are the sub-folder names in ordinal order. Every image is decoded with SkiaSharp
/// and resized to one size so that the set is a dense array.
/// </summary>
public static class ImageFolderReader
{
    /// <summary>File extensions read as images (lower case, with the dot).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".webp"];

    /// <summary>Reads every image under <paramref name="root"/>.</summary>
    /// <param name="root">The folder holding one sub-folder per class.</param>
    /// <param name="height">Height every image is resized to.</param>
    /// <param name="width">Width every image is resized to.</param>
    /// <param name="grayscale">Keep one channel (luma) instead of RGB.</param>
    public static LabeledImageSet Read(string root, int height, int width, bool grayscale = false)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (height < 1 || width < 1)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidImageShape, $"Target size must be positive, got {height}×{width}.");
        if (!Directory.Exists(root))
            throw new EdgeRuntimeException(RuntimeErrorCode.DataNotFound, $"Image folder '{root}' does not exist.");
        var classDirs = Directory.GetDirectories(root).OrderBy(d => d, StringComparer.Ordinal).ToArray();
        var files = new List<(string Path, int Label)>();
        for (int c = 0; c < classDirs.Length; c++)
        {
            foreach (var file in Directory.EnumerateFiles(classDirs[c]).Order(StringComparer.Ordinal))
            {
                if (Extensions.Contains(Path.GetExtension(file).ToLowerInvariant()))
                    files.Add((file, c));
            }
        }
        if (files.Count == 0)
            throw EdgeRuntimeException.Empty($"Image folder '{root}' (expected root/<class>/<image>)");

        int channels = grayscale ? 1 : 3;
        var pixels = new byte[(long)files.Count * height * width * channels];
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var target = new SKBitmap(info);
        for (int i = 0; i < files.Count; i++)
        {
            DecodeInto(files[i].Path, target);
            CopyPixels(target, pixels.AsSpan(i * height * width * channels, height * width * channels), grayscale);
        }
        var names = classDirs.Select(Path.GetFileName).Select(n => n!).ToArray();
        return new LabeledImageSet(pixels, files.Select(f => f.Label).ToArray(), height, width, channels, names);
    }

    private static void DecodeInto(string path, SKBitmap target)
    {
        using var decoded = SKBitmap.Decode(path)
            ?? throw new EdgeRuntimeException(RuntimeErrorCode.UndecodableImage, $"Image '{path}' could not be decoded.");
        using var canvas = new SKCanvas(target);
        using var image = SKImage.FromBitmap(decoded);
        canvas.Clear(SKColors.Black);
        canvas.DrawImage(image, new SKRect(0, 0, target.Width, target.Height), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
    }

    internal static void CopyPixels(SKBitmap source, Span<byte> destination, bool grayscale)
    {
        var rgba = source.GetPixelSpan();
        int pixelCount = source.Width * source.Height;
        for (int p = 0; p < pixelCount; p++)
        {
            byte r = rgba[4 * p], g = rgba[(4 * p) + 1], b = rgba[(4 * p) + 2];
            if (grayscale)
            {
                destination[p] = (byte)Math.Round((0.299 * r) + (0.587 * g) + (0.114 * b));
            }
            else
            {
                destination[3 * p] = r;
                destination[(3 * p) + 1] = g;
                destination[(3 * p) + 2] = b;
            }
        }
    }
}
