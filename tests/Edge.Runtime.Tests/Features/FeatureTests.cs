using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Runtime.Tests.Onnx;

namespace EdgeTL.Runtime.Tests.Features;

public sealed class FeatureTests : IDisposable
{
    private static readonly LabeledImageSet Test = FashionMnist.LoadTest();
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-features-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static FeatureExtractor Extractor(int batch = 16) =>
        new(OnnxModel.Load(TinyModels.Backbone()), new ImagePipeline(new ImagePipelineOptions { InputSize = 28 }), batch);

    [Fact]
    public void Features_do_not_depend_on_how_images_are_batched()
    {
        var one = Extractor(batch: 1).Extract(Test, [0, 1, 2, 3, 4, 5, 6]);
        var seven = Extractor(batch: 3).Extract(Test, [0, 1, 2, 3, 4, 5, 6]);
        Assert.Equal(7 * 32, one.Length);
        for (int i = 0; i < one.Length; i++)
            Assert.Equal(one[i], seven[i], 5);
        Assert.NotEqual(one.AsSpan(0, 32).ToArray(), one.AsSpan(32, 32).ToArray());
    }

    [Fact]
    public void Encoded_images_give_the_same_features_as_raw_pixels()
    {
        var extractor = Extractor();
        var raw = Test.Image(3).ToArray();
        using var bitmap = new SkiaSharp.SKBitmap(28, 28, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul);
        for (int y = 0; y < 28; y++)
        {
            for (int x = 0; x < 28; x++)
                bitmap.SetPixel(x, y, new SkiaSharp.SKColor(raw[(y * 28) + x], raw[(y * 28) + x], raw[(y * 28) + x]));
        }
        using var png = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        var fromPng = extractor.ExtractEncoded([png.ToArray()]);
        var fromRaw = extractor.ExtractRaw([(raw, 28, 28, 1)]);
        for (int i = 0; i < fromRaw.Length; i++)
            Assert.Equal(fromRaw[i], fromPng[i], 5);
        var error = Assert.Throws<EdgeRuntimeException>(() => extractor.ExtractEncoded([[1, 2, 3]]));
        Assert.Equal(RuntimeErrorCode.UndecodableImage, error.Code);
    }

    [Fact]
    public void The_predictor_returns_a_label_and_probabilities_that_sum_to_one()
    {
        var extractor = Extractor();
        string[] labels = ["a", "b", "c"];
        var predictor = new Predictor(extractor, OnnxModel.Load(TinyModels.Head(32, 3)), labels);
        var features = extractor.Extract(Test, [0, 1, 2, 3]);
        var predictions = predictor.FromFeatures(features, 4);
        Assert.Equal(4, predictions.Count);
        Assert.All(predictions, p =>
        {
            Assert.Equal(1.0, p.Probabilities.Sum(), 5);
            Assert.Equal(p.Probabilities.Max(), p.Confidence);
            Assert.Equal(labels[p.ClassIndex], p.Label);
        });
        var wrong = new Predictor(extractor, OnnxModel.Load(TinyModels.Head(32, 4)), labels);
        Assert.Equal(RuntimeErrorCode.InvalidModel, Assert.Throws<EdgeRuntimeException>(() => wrong.FromFeatures(features, 4)).Code);
    }

    [Fact]
    public void The_feature_cache_survives_a_restart_and_is_dropped_when_the_model_changes()
    {
        var cache = new FeatureCache(_dir, "v1-abc");
        int computed = 0;
        float[] Compute() { computed++; return [1f, 2f, 3f]; }
        Assert.Equal([1f, 2f, 3f], cache.GetOrAdd("sample-7", Compute));
        Assert.Equal([1f, 2f, 3f], cache.GetOrAdd("sample-7", Compute));
        Assert.Equal(1, computed);

        var reopened = new FeatureCache(_dir, "v1-abc");   // a restart: memory empty, disk kept
        Assert.True(reopened.TryGet("sample-7", out var fromDisk));
        Assert.Equal([1f, 2f, 3f], fromDisk);

        reopened.SetModel("v2-def");
        Assert.False(reopened.TryGet("sample-7", out _));
        Assert.False(Directory.Exists(Path.Combine(_dir, "v1-abc")));
        Assert.Throws<EdgeRuntimeException>(() => reopened.SetModel("../escape"));
    }
}
