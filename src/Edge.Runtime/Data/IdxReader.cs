using System.Buffers.Binary;
using System.IO.Compression;

namespace EdgeTL.Runtime.Data;

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST (big-endian header:
/// two zero bytes, a type byte 0x08 for unsigned bytes, a dimension count, then the sizes).
/// Files ending in <c>.gz</c> are decompressed on the fly.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByteType = 0x08;

    /// <summary>Reads an image file ([N,H,W] grey or [N,H,W,C] with C = 1 or 3, ubyte) and its label file ([N] ubyte) into a set.</summary>
    /// <param name="imagesPath">The <c>*-images-idx3-ubyte[.gz]</c> file.</param>
    /// <param name="labelsPath">The <c>*-labels-idx1-ubyte[.gz]</c> file.</param>
    /// <param name="classNames">Class names; by default "0".."9", or as many as the labels need.</param>
    public static LabeledImageSet ReadImageSet(string imagesPath, string labelsPath, IReadOnlyList<string>? classNames = null)
    {
        var (imageDims, pixels) = ReadTensor(imagesPath);
        // [N,H,W] grey, or [N,H,W,C] with C = 1 or 3 (channels interleaved, as LabeledImageSet keeps them).
        if (imageDims.Length is not (3 or 4))
            throw EdgeRuntimeException.Corrupt(imagesPath, $"expected 3 dimensions [N,H,W] or 4 [N,H,W,C], found {imageDims.Length}");
        int channels = imageDims.Length == 4 ? imageDims[3] : 1;
        if (channels is not (1 or 3))
            throw EdgeRuntimeException.Corrupt(imagesPath, $"expected 1 or 3 channels in [N,H,W,C], found {channels}");
        var (labelDims, labelBytes) = ReadTensor(labelsPath);
        if (labelDims.Length != 1)
            throw EdgeRuntimeException.Corrupt(labelsPath, $"expected 1 dimension [N], found {labelDims.Length}");
        if (labelDims[0] != imageDims[0])
            throw EdgeRuntimeException.Corrupt(labelsPath, $"{labelDims[0]} labels for {imageDims[0]} images");
        if (imageDims[0] == 0)
            throw EdgeRuntimeException.Empty($"IDX file '{imagesPath}'");
        var labels = labelBytes.Select(b => (int)b).ToArray();
        var names = classNames ?? Enumerable.Range(0, Math.Max(10, labels.Max() + 1)).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return new LabeledImageSet(pixels, labels, imageDims[1], imageDims[2], channels, names);
    }

    /// <summary>Reads one IDX unsigned-byte tensor: its dimensions and its payload.</summary>
    public static (int[] Dims, byte[] Data) ReadTensor(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new EdgeRuntimeException(RuntimeErrorCode.DataNotFound, $"IDX file '{path}' does not exist.");
        try
        {
            using var file = File.OpenRead(path);
            using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
                ? new GZipStream(file, CompressionMode.Decompress)
                : file;
            return Read(stream, path);
        }
        catch (InvalidDataException e)
        {
            throw new EdgeRuntimeException(RuntimeErrorCode.CorruptDataFile, $"Corrupt data file '{path}': {e.Message}", e);
        }
    }

    private static (int[] Dims, byte[] Data) Read(Stream stream, string path)
    {
        Span<byte> magic = stackalloc byte[4];
        if (!TryReadExactly(stream, magic))
            throw EdgeRuntimeException.Corrupt(path, "shorter than the 4-byte IDX header");
        if (magic[0] != 0 || magic[1] != 0)
            throw EdgeRuntimeException.Corrupt(path, $"bad magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(magic):X8}");
        if (magic[2] != UnsignedByteType)
            throw EdgeRuntimeException.Corrupt(path, $"element type 0x{magic[2]:X2} is not unsigned byte (0x08)");
        int rank = magic[3];
        if (rank is < 1 or > 4)
            throw EdgeRuntimeException.Corrupt(path, $"dimension count {rank} is outside 1..4");
        var dims = new int[rank];
        Span<byte> word = stackalloc byte[4];
        long total = 1;
        for (int i = 0; i < rank; i++)
        {
            if (!TryReadExactly(stream, word))
                throw EdgeRuntimeException.Corrupt(path, "header ends before its dimensions");
            uint d = BinaryPrimitives.ReadUInt32BigEndian(word);
            if (d > int.MaxValue)
                throw EdgeRuntimeException.Corrupt(path, $"dimension {i} is {d}");
            dims[i] = (int)d;
            total *= d;
        }
        if (total > Array.MaxLength)
            throw EdgeRuntimeException.Corrupt(path, $"payload of {total} bytes is too large");
        var data = new byte[total];
        if (!TryReadExactly(stream, data))
            throw EdgeRuntimeException.Corrupt(path, $"truncated: header promises {total} bytes of data [{string.Join("×", dims)}]");
        if (stream.ReadByte() != -1)
            throw EdgeRuntimeException.Corrupt(path, $"trailing bytes after {total} bytes of data [{string.Join("×", dims)}]");
        return (dims, data);
    }

    private static bool TryReadExactly(Stream stream, Span<byte> buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = stream.Read(buffer[read..]);
            if (n == 0)
                return false;
            read += n;
        }
        return true;
    }
}
