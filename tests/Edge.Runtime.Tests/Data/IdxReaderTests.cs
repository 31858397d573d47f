using System.IO.Compression;
using EdgeTL.Runtime;
using EdgeTL.Runtime.Data;

namespace EdgeTL.Runtime.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void LoadTrain_BundledSubset_IsBalanced6000Images()
    {
        var train = FashionMnist.LoadTrain();
        Assert.Equal(6000, train.Count);
        Assert.Equal((28, 28, 1), (train.Height, train.Width, train.Channels));
        Assert.All(train.ClassCounts(), c => Assert.Equal(600, c));
        Assert.Equal("Ankle boot", train.ClassNames[9]);
    }

    [Fact]
    public void LoadTest_BundledSubset_IsBalanced1000Images()
    {
        var test = FashionMnist.LoadTest();
        Assert.Equal(1000, test.Count);
        Assert.All(test.ClassCounts(), c => Assert.Equal(100, c));
        Assert.Contains(test.Pixels, p => p > 200);
    }

    [Fact]
    public void ReadTensor_RoundTripOfWrittenFile_ReturnsDimsAndData()
    {
        var path = Write("ok.idx", Header(3, 2, 2, 2), [1, 2, 3, 4, 5, 6, 7, 8]);
        var (dims, data) = IdxReader.ReadTensor(path);
        Assert.Equal([2, 2, 2], dims);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], data);
    }

    [Fact]
    public void ReadImageSet_RgbFourDimensions_KeepsChannelsInterleaved()
    {
        // Two 2×1 RGB images, [N,H,W,C] = [2,2,1,3].
        byte[] pixels = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120];
        var images = Write("rgb.idx", Header(4, 2, 2, 1, 3), pixels);
        var labels = Write("rgb-labels.idx", Header(1, 2), [1, 0]);
        var set = IdxReader.ReadImageSet(images, labels);
        Assert.Equal((2, 1, 3), (set.Height, set.Width, set.Channels));
        Assert.Equal([1, 0], set.Labels);
        Assert.Equal(pixels[6..], set.Image(1).ToArray());
    }

    [Fact]
    public void ReadImageSet_FourChannels_ThrowsCorruptNamingTheCount()
    {
        var images = Write("rgba.idx", Header(4, 1, 1, 1, 4), [1, 2, 3, 4]);
        var labels = Write("rgba-labels.idx", Header(1, 1), [0]);
        var e = Assert.Throws<EdgeRuntimeException>(() => IdxReader.ReadImageSet(images, labels));
        Assert.Equal(RuntimeErrorCode.CorruptDataFile, e.Code);
        Assert.Contains("found 4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadTensor_TruncatedPayload_ThrowsCorrupt()
    {
        var path = Write("short.idx", Header(3, 2, 2, 2), [1, 2, 3]);
        var e = Assert.Throws<EdgeRuntimeException>(() => IdxReader.ReadTensor(path));
        Assert.Equal(RuntimeErrorCode.CorruptDataFile, e.Code);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadTensor_BadMagic_ThrowsCorrupt()
    {
        var path = Write("magic.idx", [0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1], [9]);
        Assert.Equal(RuntimeErrorCode.CorruptDataFile, Assert.Throws<EdgeRuntimeException>(() => IdxReader.ReadTensor(path)).Code);
    }

    [Fact]
    public void ReadTensor_NonByteElementType_ThrowsCorrupt()
    {
        var path = Write("float.idx", [0, 0, 0x0D, 0x01, 0, 0, 0, 1], [0, 0, 0, 0]);
        var e = Assert.Throws<EdgeRuntimeException>(() => IdxReader.ReadTensor(path));
        Assert.Contains("unsigned byte", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadTensor_TrailingBytes_ThrowsCorrupt()
    {
        var path = Write("long.idx", Header(1, 2), [1, 2, 3]);
        Assert.Equal(RuntimeErrorCode.CorruptDataFile, Assert.Throws<EdgeRuntimeException>(() => IdxReader.ReadTensor(path)).Code);
    }

    [Fact]
    public void ReadTensor_GzipGarbage_ThrowsCorrupt()
    {
        var path = Path.Combine(_dir, "bad.gz");
        File.WriteAllBytes(path, [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        Assert.Equal(RuntimeErrorCode.CorruptDataFile, Assert.Throws<EdgeRuntimeException>(() => IdxReader.ReadTensor(path)).Code);
    }

    [Fact]
    public void ReadTensor_MissingFile_ThrowsDataNotFound()
    {
        var e = Assert.Throws<EdgeRuntimeException>(() => IdxReader.ReadTensor(Path.Combine(_dir, "nope.idx")));
        Assert.Equal(RuntimeErrorCode.DataNotFound, e.Code);
    }

    [Fact]
    public void ReadImageSet_LabelCountMismatch_ThrowsCorrupt()
    {
        var images = Write("i.idx", Header(3, 2, 1, 1), [1, 2]);
        var labels = Write("l.idx", Header(1, 3), [0, 1, 2]);
        var e = Assert.Throws<EdgeRuntimeException>(() => IdxReader.ReadImageSet(images, labels));
        Assert.Contains("3 labels for 2 images", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImageSet_LabelBeyondClassNames_ThrowsLabelOutOfRange()
    {
        var images = Write("i.idx", Header(3, 2, 1, 1), [1, 2]);
        var labels = Write("l.idx", Header(1, 2), [0, 7]);
        var e = Assert.Throws<EdgeRuntimeException>(() => IdxReader.ReadImageSet(images, labels, ["a", "b"]));
        Assert.Equal(RuntimeErrorCode.LabelOutOfRange, e.Code);
    }

    [Fact]
    public void ReadImageSet_BundledFileCutShort_ThrowsCorrupt()
    {
        var original = Path.Combine(FashionMnist.LocateDirectory(), "t10k-images-idx3-ubyte.gz");
        byte[] raw;
        using (var gz = new GZipStream(File.OpenRead(original), CompressionMode.Decompress))
        using (var ms = new MemoryStream())
        {
            gz.CopyTo(ms);
            raw = ms.ToArray();
        }
        var cut = Write("cut.idx", raw[..(raw.Length / 2)], []);
        Assert.Equal(RuntimeErrorCode.CorruptDataFile, Assert.Throws<EdgeRuntimeException>(() => IdxReader.ReadTensor(cut)).Code);
    }

    private static byte[] Header(int rank, params int[] dims)
    {
        var header = new List<byte> { 0, 0, 0x08, (byte)rank };
        foreach (int d in dims)
            header.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        return [.. header];
    }

    private string Write(string name, byte[] header, byte[] payload)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, [.. header, .. payload]);
        return path;
    }
}
