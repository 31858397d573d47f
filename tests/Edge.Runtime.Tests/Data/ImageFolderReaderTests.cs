using EdgeTL.Runtime;
using EdgeTL.Runtime.Data;
using SkiaSharp;

namespace EdgeTL.Runtime.Tests.Data;

public sealed class ImageFolderReaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("edgetl-folder-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Read_PngFolderOfRealImages_RoundTripsPixelsAndLabels()
    {
        var test = FashionMnist.LoadTest();
        var chosen = new[] { 0, 1, 2, 3 };
        foreach (int i in chosen)
            WritePng(Path.Combine(_root, test.ClassNames[test.Labels[i]].Replace('/', '_')), $"{i}.png", test.Image(i), 28, 28);

        var set = ImageFolderReader.Read(_root, 28, 28, grayscale: true);

        Assert.Equal(chosen.Length, set.Count);
        var expectedNames = chosen.Select(i => test.ClassNames[test.Labels[i]].Replace('/', '_')).Distinct().Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expectedNames, set.ClassNames);
        for (int k = 0; k < set.Count; k++)
        {
            var original = chosen.Single(i => test.ClassNames[test.Labels[i]].Replace('/', '_') == set.ClassNames[set.Labels[k]]
                && set.Image(k).SequenceEqual(test.Image(i)));
            Assert.True(original >= 0);
        }
    }

    [Fact]
    public void Read_RgbResize_ProducesThreeChannelsAtTargetSize()
    {
        var pixels = Enumerable.Range(0, 16 * 16).Select(i => (byte)i).ToArray();
        WritePng(Path.Combine(_root, "a"), "x.png", pixels, 16, 16);
        WritePng(Path.Combine(_root, "b"), "y.png", pixels, 16, 16);
        var set = ImageFolderReader.Read(_root, 8, 8);
        Assert.Equal((8, 8, 3, 2), (set.Height, set.Width, set.Channels, set.Count));
        Assert.Equal([0, 1], set.Labels);
    }

    [Fact]
    public void Read_UndecodableFile_ThrowsTypedError()
    {
        Directory.CreateDirectory(Path.Combine(_root, "c"));
        File.WriteAllText(Path.Combine(_root, "c", "broken.png"), "not a png");
        var e = Assert.Throws<EdgeRuntimeException>(() => ImageFolderReader.Read(_root, 8, 8));
        Assert.Equal(RuntimeErrorCode.UndecodableImage, e.Code);
    }

    [Fact]
    public void Read_EmptyFolder_ThrowsEmptyDataset()
    {
        Assert.Equal(RuntimeErrorCode.EmptyDataset, Assert.Throws<EdgeRuntimeException>(() => ImageFolderReader.Read(_root, 8, 8)).Code);
    }

    private static void WritePng(string dir, string name, ReadOnlySpan<byte> gray, int width, int height)
    {
        Directory.CreateDirectory(dir);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        gray.CopyTo(bitmap.GetPixelSpan());
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(Path.Combine(dir, name), data.ToArray());
    }
}
