using System.Runtime.InteropServices;
using EdgeTL.Runtime.Data;
using SkiaSharp;

namespace EdgeTL.Cloud.Tests;

/// <summary>Image folders as users bring them, written from the bundled real images.</summary>
internal static class ImageFolders
{
    /// <summary>Names of Fashion-MNIST classes 5–9, as folder names.</summary>
    public static readonly string[] Names = ["sandal", "shirt", "sneaker", "bag", "ankle-boot"];

    /// <summary>Real Fashion-MNIST images of classes 5–9 from <paramref name="set"/>, <paramref name="perClass"/> each, as PNG files in one folder per class.</summary>
    public static string WriteFashion(string root, LabeledImageSet set, int perClass, int seed)
    {
        var picked = set.SelectClasses([5, 6, 7, 8, 9]).SamplePerClass(perClass, seed);
        for (int i = 0; i < picked.Count; i++)
        {
            string folder = Path.Combine(root, Names[picked.Labels[i]]);
            Directory.CreateDirectory(folder);
            WritePng(Path.Combine(folder, $"{i:D4}.png"), picked.Image(i), picked.Width, picked.Height);
        }
        return root;
    }

    /// <summary>The committed colour photos (JPEG, several sizes), as they are.</summary>
    public static string[] Photos() => [.. Directory.GetFiles(Path.Combine(Trainer.Tests.PeerFixtures.RepoRoot, "data", "photos"), "*.jpg").Order(StringComparer.Ordinal)];

    public static void WritePng(string path, ReadOnlySpan<byte> gray, int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        Marshal.Copy(gray.ToArray(), 0, bitmap.GetPixels(), gray.Length);
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, png.ToArray());
    }
}
