using EdgeTL.Runtime;
using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Preprocessing;

namespace EdgeTL.Runtime.Tests.Preprocessing;

public sealed class ImagePipelineTests
{
    private static readonly LabeledImageSet Test = FashionMnist.LoadTest();

    [Fact]
    public void Process_ConstantGrayImage_NormalizesEachChannelWithImageNetStats()
    {
        var pipeline = new ImagePipeline(new ImagePipelineOptions { InputSize = 32 });
        var image = Enumerable.Repeat((byte)255, 28 * 28).ToArray();
        var output = new float[pipeline.SampleLength];
        pipeline.Process(image, 28, 28, 1, output, random: null);
        var n = Normalization.ImageNet;
        for (int c = 0; c < 3; c++)
        {
            float expected = (1f - n.Mean[c]) / n.Std[c];
            Assert.All(output.AsSpan(c * 1024, 1024).ToArray(), v => Assert.Equal(expected, v, 5));
        }
    }

    [Fact]
    public void Process_SameSizeNoAugmentation_KeepsPixelsExactly()
    {
        var pipeline = new ImagePipeline(new ImagePipelineOptions { InputSize = 28, Channels = 1, Normalization = new([0f], [1f]) });
        var output = new float[pipeline.SampleLength];
        pipeline.Process(Test, 7, output, random: null);
        var source = Test.Image(7).ToArray();
        for (int i = 0; i < source.Length; i++)
            Assert.Equal(source[i] / 255f, output[i], 1e-6f);
    }

    [Fact]
    public void Process_SameSeed_SameAugmentation_DifferentSeed_Differs()
    {
        var pipeline = new ImagePipeline(new ImagePipelineOptions { InputSize = 32 });
        float[] Run(int seed)
        {
            var o = new float[pipeline.SampleLength];
            pipeline.Process(Test, 3, o, new Random(seed));
            return o;
        }
        Assert.Equal(Run(5), Run(5));
        Assert.NotEqual(Run(5), Run(6));
    }

    [Fact]
    public void Process_AlwaysFlip_MirrorsTheImage()
    {
        var noJitter = AugmentationOptions.None with { FlipProbability = 1f };
        var pipeline = new ImagePipeline(new ImagePipelineOptions { InputSize = 28, Channels = 1, Normalization = new([0f], [1f]), Augmentation = noJitter });
        var flipped = new float[pipeline.SampleLength];
        pipeline.Process(Test, 11, flipped, new Random(1));
        var source = Test.Image(11);
        for (int y = 0; y < 28; y++)
        {
            for (int x = 0; x < 28; x++)
                Assert.Equal(source[(y * 28) + 27 - x] / 255f, flipped[(y * 28) + x], 5);
        }
    }

    [Fact]
    public void Process_SteadyState_AllocatesNothing()
    {
        var pipeline = new ImagePipeline(new ImagePipelineOptions { InputSize = 64 });
        var output = new float[pipeline.SampleLength];
        var random = new Random(0);
        for (int i = 0; i < 500; i++)
            pipeline.Process(Test, i, output, random);
        // The runtime itself may allocate once in a while on this thread (tiered JIT, runner);
        // a per-image allocation would show in every trial, so the quietest trial must be 0.
        long quietest = long.MaxValue;
        for (int trial = 0; trial < 5; trial++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 200; i++)
                pipeline.Process(Test, i, output, random);
            quietest = Math.Min(quietest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, quietest);
    }

    [Fact]
    public void Process_ExtraAugmentation_IsApplied()
    {
        var invert = new InvertAugmentation();
        var pipeline = new ImagePipeline(new ImagePipelineOptions
        {
            InputSize = 28, Channels = 1, Normalization = new([0f], [1f]),
            Augmentation = AugmentationOptions.None with { Extra = [invert] },
        });
        var output = new float[pipeline.SampleLength];
        pipeline.Process(Test, 2, output, new Random(0));
        Assert.Equal(1f - (Test.Image(2)[0] / 255f), output[0], 5);
    }

    [Fact]
    public void Constructor_BadNormalization_ThrowsInvalidArgument()
    {
        var e = Assert.Throws<EdgeRuntimeException>(() => new ImagePipeline(new ImagePipelineOptions { Normalization = new([0.5f], [0.5f]) }));
        Assert.Equal(RuntimeErrorCode.InvalidArgument, e.Code);
    }

    [Fact]
    public void Process_RgbSetIntoGrayModel_ThrowsInvalidImageShape()
    {
        var rgb = new LabeledImageSet(new byte[2 * 2 * 3], [0], 2, 2, 3, ["x"]);
        var pipeline = new ImagePipeline(new ImagePipelineOptions { InputSize = 2, Channels = 1, Normalization = new([0f], [1f]) });
        var e = Assert.Throws<EdgeRuntimeException>(() => pipeline.Process(rgb, 0, new float[4], null));
        Assert.Equal(RuntimeErrorCode.InvalidImageShape, e.Code);
    }

    private sealed class InvertAugmentation : IImageAugmentation
    {
        public void Apply(Span<float> chw, int channels, int height, int width, Random random)
        {
            for (int i = 0; i < chw.Length; i++)
                chw[i] = 1f - chw[i];
        }
    }
}
