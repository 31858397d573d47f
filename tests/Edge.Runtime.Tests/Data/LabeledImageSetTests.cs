using EdgeTL.Runtime;
using EdgeTL.Runtime.Data;

namespace EdgeTL.Runtime.Tests.Data;

public sealed class LabeledImageSetTests
{
    private static readonly LabeledImageSet Train = FashionMnist.LoadTrain();

    [Fact]
    public void SelectClasses_TargetSplit_RenumbersFromZero()
    {
        var target = Train.SelectClasses([5, 6, 7, 8, 9]);
        Assert.Equal(3000, target.Count);
        Assert.Equal(["Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"], target.ClassNames);
        Assert.All(target.ClassCounts(), c => Assert.Equal(600, c));
    }

    [Fact]
    public void EncodePng_GreyImage_DecodesToTheSamePixelsAndInvertedFlipsThem()
    {
        var set = Train.SamplePerClass(1, seed: 3);
        var decoder = new EdgeTL.Runtime.Preprocessing.ImageDecoder();
        for (int i = 0; i < 3; i++)
        {
            var (rgb, height, width) = decoder.Decode(set.EncodePng(i));
            Assert.Equal((28, 28), (height, width));
            var pixels = rgb.ToArray();
            Assert.Equal(set.Image(i).ToArray(), Enumerable.Range(0, 28 * 28).Select(p => pixels[p * 3]).ToArray());   // lossless, R = G = B = grey
            Assert.Equal(set.Image(i).ToArray().Select(v => (byte)(255 - v)), set.Inverted().Image(i).ToArray());
        }
        Assert.Equal(set.Labels, set.Inverted().Labels);
    }

    [Fact]
    public void SamplePerClass_SameSeed_SameSamples_OtherSeed_Differs()
    {
        var a = Train.SamplePerClass(20, seed: 1);
        var b = Train.SamplePerClass(20, seed: 1);
        var c = Train.SamplePerClass(20, seed: 2);
        Assert.Equal(200, a.Count);
        Assert.All(a.ClassCounts(), n => Assert.Equal(20, n));
        Assert.Equal(a.Pixels, b.Pixels);
        Assert.NotEqual(a.Pixels, c.Pixels);
    }

    [Fact]
    public void SplitPerClass_Fraction_KeepsEverySampleOnce()
    {
        var (remainder, part) = Train.SelectClasses([0, 1]).SplitPerClass(0.1, seed: 3);
        Assert.Equal(1080, remainder.Count);
        Assert.Equal(120, part.Count);
        Assert.All(part.ClassCounts(), n => Assert.Equal(60, n));
    }

    [Fact]
    public void Constructor_LabelOutOfRange_ThrowsTypedError()
    {
        var e = Assert.Throws<EdgeRuntimeException>(() => new LabeledImageSet(new byte[4], [0, 5], 1, 2, 1, ["a", "b"]));
        Assert.Equal(RuntimeErrorCode.LabelOutOfRange, e.Code);
    }

    [Fact]
    public void Constructor_WrongChannelCount_ThrowsInvalidImageShape()
    {
        var e = Assert.Throws<EdgeRuntimeException>(() => new LabeledImageSet(new byte[8], [0, 1], 1, 2, 2, ["a", "b"]));
        Assert.Equal(RuntimeErrorCode.InvalidImageShape, e.Code);
    }

    [Fact]
    public void Constructor_PixelCountMismatch_ThrowsInvalidImageShape()
    {
        var e = Assert.Throws<EdgeRuntimeException>(() => new LabeledImageSet(new byte[5], [0, 1], 1, 2, 1, ["a", "b"]));
        Assert.Equal(RuntimeErrorCode.InvalidImageShape, e.Code);
    }

    [Fact]
    public void SamplePerClass_MoreThanAvailable_ThrowsEmptyDataset()
    {
        var small = Train.Subset([0, 1, 2]);
        Assert.Equal(RuntimeErrorCode.EmptyDataset, Assert.Throws<EdgeRuntimeException>(() => small.SamplePerClass(5, 0)).Code);
    }
}
