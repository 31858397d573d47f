using SkiaSharp;

namespace EdgeTL.Runtime.Data;

/// <summary>A user's image folder, read for training: the train and validation sets, and the files that could not be used.</summary>
/// <param name="Train">Images to train on.</param>
/// <param name="Validation">Held-out images (never trained on).</param>
/// <param name="Skipped">Files that could not be decoded, each with the reason.</param>
/// <param name="SplitBy">How the validation set was chosen: <c>folders</c> (<c>train/</c> and <c>val/</c>) or <c>seeded split</c>.</param>
public sealed record ImageFolderSplit(LabeledImageSet Train, LabeledImageSet Validation, IReadOnlyList<string> Skipped, string SplitBy);

/// <summary>
/// Reads a folder in torchvision's <c>ImageFolder</c> layout: <c>root/&lt;class&gt;/&lt;image&gt;</c>, or
/// <c>root/train/&lt;class&gt;/…</c> with <c>root/val/&lt;class&gt;/…</c>. Class names are the folder names,
/// in ordinal order. Each image is decoded by SkiaSharp (PNG, JPEG, BMP, WebP, GIF), its shorter side
/// resized to the stored side and the centre cropped square (torchvision's Resize + CenterCrop), in RGB.
/// A file that does not decode is skipped and named, never fatal; a class left with no image is an error.
/// </summary>
public static class ImageFolderDataset
{
    private static readonly string[] Extensions = [.. ImageFolderReader.Extensions, ".gif"];

    /// <summary>Reads <paramref name="root"/> at <paramref name="side"/>×<paramref name="side"/> and splits it.</summary>
    /// <param name="root">The image folder.</param>
    /// <param name="side">Side every image is stored at (the training pipeline crops and resizes from it).</param>
    /// <param name="validationFraction">Share of each class held out when the folder has no <c>val/</c>.</param>
    /// <param name="seed">Seed of that split.</param>
    public static ImageFolderSplit Load(string root, int side, double validationFraction = 0.2, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (side < 1)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidImageShape, $"The stored side must be positive, got {side}.");
        if (!(validationFraction is > 0 and < 1))
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidImageShape, $"The validation fraction must be in (0, 1), got {validationFraction}.");
        if (!Directory.Exists(root))
            throw new EdgeRuntimeException(RuntimeErrorCode.DataNotFound, $"Image folder '{root}' does not exist.");
        var skipped = new List<string>();
        string trainRoot = Path.Combine(root, "train"), valRoot = Path.Combine(root, "val");
        if (Directory.Exists(trainRoot) && Directory.Exists(valRoot))
        {
            var train = Read(trainRoot, side, ClassFolders(trainRoot), skipped);
            var validation = Read(valRoot, side, train.ClassNames, skipped);
            return new ImageFolderSplit(train, validation, skipped, "folders");
        }
        var all = Read(root, side, ClassFolders(root), skipped);
        var (trainIndices, valIndices) = StratifiedSplit(all.Labels, all.ClassCount, validationFraction, seed);
        return new ImageFolderSplit(all.Subset(trainIndices), all.Subset(valIndices), skipped, "seeded split");
    }

    private static string[] ClassFolders(string root)
    {
        var names = Directory.GetDirectories(root).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToArray();
        return names.Length > 0 ? names
            : throw EdgeRuntimeException.Empty($"Image folder '{root}' has no class folders (expected {root}/<class>/<image>)");
    }

    /// <summary>Reads the images of <paramref name="classNames"/> under <paramref name="root"/>; a class folder missing or left empty is an error.</summary>
    private static LabeledImageSet Read(string root, int side, IReadOnlyList<string> classNames, List<string> skipped)
    {
        var pixels = new List<byte[]>();
        var labels = new List<int>();
        var info = new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var target = new SKBitmap(info);
        for (int c = 0; c < classNames.Count; c++)
        {
            string folder = Path.Combine(root, classNames[c]);
            if (!Directory.Exists(folder))
                throw new EdgeRuntimeException(RuntimeErrorCode.DataNotFound, $"Class folder '{folder}' is missing: every split needs the same classes ({string.Join(", ", classNames)}).");
            int before = labels.Count;
            foreach (var file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
            {
                if (!Extensions.Contains(Path.GetExtension(file).ToLowerInvariant()))
                    continue;
                if (!TryDecodeCentered(file, target, out string? reason))
                {
                    skipped.Add($"{file}: {reason}");
                    continue;
                }
                var image = new byte[side * side * 3];
                ImageFolderReader.CopyPixels(target, image, grayscale: false);
                pixels.Add(image);
                labels.Add(c);
            }
            if (labels.Count == before)
                throw EdgeRuntimeException.Empty($"Class '{classNames[c]}' in '{root}' (no decodable image; {skipped.Count} file(s) skipped so far)");
        }
        var all = new byte[(long)pixels.Count * side * side * 3];
        for (int i = 0; i < pixels.Count; i++)
            pixels[i].CopyTo(all, (long)i * side * side * 3);
        return new LabeledImageSet(all, [.. labels], side, side, 3, classNames);
    }

    /// <summary>Decodes <paramref name="path"/>, resizes its shorter side to the target's and draws the centre square.</summary>
    private static bool TryDecodeCentered(string path, SKBitmap target, out string? reason)
    {
        using var decoded = SKBitmap.Decode(path);
        if (decoded is null || decoded.Width < 1 || decoded.Height < 1)
        {
            reason = "not an image SkiaSharp can decode";
            return false;
        }
        float scale = (float)target.Width / Math.Min(decoded.Width, decoded.Height);
        float width = decoded.Width * scale, height = decoded.Height * scale;
        float left = (target.Width - width) / 2, top = (target.Height - height) / 2;
        using var canvas = new SKCanvas(target);
        using var image = SKImage.FromBitmap(decoded);
        canvas.Clear(SKColors.Black);
        canvas.DrawImage(image, new SKRect(left, top, left + width, top + height), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        reason = null;
        return true;
    }

    /// <summary>Per class, a seeded shuffle; the first ⌈fraction·n⌉ (at least 1 where the class has 2 or more) go to validation.</summary>
    private static (int[] Train, int[] Validation) StratifiedSplit(int[] labels, int classes, double fraction, int seed)
    {
        var train = new List<int>();
        var validation = new List<int>();
        var random = new Random(seed);
        for (int c = 0; c < classes; c++)
        {
            var members = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).ToArray();
            random.Shuffle(members);
            int held = members.Length < 2 ? 0 : Math.Clamp((int)Math.Ceiling(fraction * members.Length), 1, members.Length - 1);
            validation.AddRange(members.Take(held));
            train.AddRange(members.Skip(held));
        }
        train.Sort();
        validation.Sort();
        return ([.. train], [.. validation]);
    }
}
