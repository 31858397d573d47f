using EdgeTL.Trainer.Adaptation;
using EdgeTL.Trainer.Visualization;
using SkiaSharp;

namespace EdgeTL.Trainer.Tests.Visualization;

public sealed class ChartsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-charts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_tsne_picture_is_a_png_with_one_colour_per_class()
    {
        var (points, labels) = TsneTests.Clusters(classes: 4, perClass: 40, dims: 20, seed: 6);
        var embedding = Tsne.Embed(points, new TsneOptions { Perplexity = 20, Seed = 1 });
        var domains = labels.Select((_, i) => i % 2).ToArray();
        string path = Path.Combine(_dir, "tsne.png");
        Charts.Embedding(path, embedding, labels, ["a", "b", "c", "d"], domains, ["source", "target"]);

        using var bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        Assert.Equal(900, bitmap.Width);
        for (int c = 0; c < 4; c++)
        {
            var color = Charts.ClassColor(c);
            int count = CountPixels(bitmap, color.Red, color.Green, color.Blue);
            Assert.True(count > 50, $"class {c}: {count} pixels of its colour");
        }
        Assert.Equal(0, CountPixels(bitmap, Charts.ClassColor(5).Red, Charts.ClassColor(5).Green, Charts.ClassColor(5).Blue));
        Assert.False(File.Exists(path + ".tmp.png"));
    }

    [Fact]
    public void Curves_and_confusion_matrix_are_written()
    {
        var curve = Enumerable.Range(1, 10).Select(i => new AdaptationCurvePoint(i * 10, 1.0 / i, 0.5 + (i * 0.04), 2.0 / i, 0.3 + (i * 0.05), 0.7, 0.6, i / 10.0)).ToArray();
        string curves = Path.Combine(_dir, "curves.png");
        Charts.Curves(curves, curve);
        string matrix = Path.Combine(_dir, "confusion.png");
        Charts.ConfusionMatrix(matrix, new[,] { { 9, 1 }, { 2, 8 } }, ["bag", "sandal"]);
        foreach (var path in new[] { curves, matrix })
        {
            using var bitmap = SKBitmap.Decode(path);
            Assert.NotNull(bitmap);
            Assert.True(bitmap.Width > 500 && bitmap.Height > 500);
        }
        // Source (class colour 0) and target (class colour 1) lines are both drawn.
        using var drawn = SKBitmap.Decode(curves);
        Assert.True(CountPixels(drawn, Charts.ClassColor(0).Red, Charts.ClassColor(0).Green, Charts.ClassColor(0).Blue) > 100);
        Assert.True(CountPixels(drawn, Charts.ClassColor(1).Red, Charts.ClassColor(1).Green, Charts.ClassColor(1).Blue) > 100);
        Assert.Throws<EdgeTrainerException>(() => Charts.ConfusionMatrix(matrix, new int[2, 3], ["a", "b"]));
    }

    private static int CountPixels(SKBitmap bitmap, byte r, byte g, byte b)
    {
        int count = 0;
        for (int y = 0; y < bitmap.Height; y++)
        {
            for (int x = 0; x < bitmap.Width; x++)
            {
                var p = bitmap.GetPixel(x, y);
                if (Math.Abs(p.Red - r) <= 2 && Math.Abs(p.Green - g) <= 2 && Math.Abs(p.Blue - b) <= 2)
                    count++;
            }
        }
        return count;
    }
}
