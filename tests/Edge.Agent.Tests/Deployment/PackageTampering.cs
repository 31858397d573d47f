using System.Text;
using System.Text.Json;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Agent.Tests.Deployment;

/// <summary>
/// Byte-level surgery on a signed package tar for the tamper tests: where each part lies (tar
/// headers, the manifest, the signature and its key id, file bodies, padding, the end marker) with
/// the rejection a flipped bit there must cause; in-place bit flips; hostile extra entries.
/// </summary>
public static class PackageTampering
{
    private const int Block = 512;

    /// <summary>A byte range of the package, what it is, and the rejection a flip inside it must produce.</summary>
    public sealed record Region(long Start, long End, string Part, PackageRejection Reason);

    /// <summary>Every byte range of the tar at <paramref name="path"/>, in order, covering the whole file.</summary>
    public static List<Region> Regions(string path)
    {
        var regions = new List<Region>();
        using var stream = File.OpenRead(path);
        var header = new byte[Block];
        long offset = 0;
        while (true)
        {
            stream.Position = offset;
            stream.ReadExactly(header);
            if (header.All(b => b == 0))
            {
                regions.Add(new Region(offset, stream.Length, "end-of-archive marker", PackageRejection.Malformed));
                return regions;
            }
            string name = Field(header, 0, 100);
            long size = Convert.ToInt64(Field(header, 124, 12).Trim(' ', '\0'), 8);
            long data = offset + Block;
            regions.Add(new Region(offset, data, $"tar header of {name}", PackageRejection.Malformed));
            if (name == ManifestFiles.Signature)
                regions.AddRange(SignatureRegions(stream, data, size));
            else if (size > 0)
                regions.Add(new Region(data, data + size, name, name == ManifestFiles.Manifest ? PackageRejection.BadSignature : PackageRejection.HashMismatch));
            long padded = data + (size + Block - 1) / Block * Block;
            if (padded > data + size)
                regions.Add(new Region(data + size, padded, $"padding of {name}", PackageRejection.Malformed));
            offset = padded;
        }
    }

    /// <summary>
    /// <paramref name="count"/> offsets drawn with <paramref name="seed"/>: at least one in every
    /// region, the rest spread by size over the manifest, the signature and the file bodies.
    /// </summary>
    public static List<(long Offset, Region Region)> FlipOffsets(IReadOnlyList<Region> regions, int count, int seed)
    {
        var random = new Random(seed);
        var picked = regions.Select(r => (r.Start + random.NextInt64(r.End - r.Start), r)).ToList();
        var content = regions.Where(r => r.Reason != PackageRejection.Malformed).ToList();
        while (picked.Count < count)
        {
            // Half the extra flips in the small signed metadata, half in file bodies.
            var pool = picked.Count % 2 == 0 ? content.Where(r => r.Reason != PackageRejection.HashMismatch).ToList() : content.Where(r => r.Reason == PackageRejection.HashMismatch).ToList();
            var region = pool[random.Next(pool.Count)];
            picked.Add((region.Start + random.NextInt64(region.End - region.Start), region));
        }
        return [.. picked.DistinctBy(p => p.Item1).OrderBy(p => p.Item1)];
    }

    /// <summary>XORs the byte at <paramref name="offset"/> with <paramref name="mask"/> in place; returns the new byte. Flipping again restores it.</summary>
    public static byte Flip(string path, long offset, byte mask)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        byte flipped = (byte)(stream.ReadByte() ^ mask);
        stream.Position = offset;
        stream.WriteByte(flipped);
        return flipped;
    }

    /// <summary>
    /// The reason a flip at a region must produce: as the region says, except that inside the
    /// key id a flip to a byte JSON cannot hold in a string breaks the signature file itself.
    /// </summary>
    public static PackageRejection Expected(Region region, byte flipped) =>
        region.Reason == PackageRejection.UntrustedKey && (flipped < 0x20 || flipped >= 0x80 || flipped is (byte)'"' or (byte)'\\')
            ? PackageRejection.BadSignature
            : region.Reason;

    /// <summary>Writes <paramref name="output"/>: the good package with one hostile entry (header + data) before its end marker.</summary>
    public static void WithExtraEntry(string good, string output, byte[] header, string data)
    {
        var content = Encoding.ASCII.GetBytes(data);
        using (var input = File.OpenRead(good))
        using (var stream = File.Create(output))
        {
            long keep = input.Length - 2 * Block;
            var buffer = new byte[1 << 20];
            while (keep > 0)
            {
                int read = input.Read(buffer, 0, (int)Math.Min(buffer.Length, keep));
                stream.Write(buffer, 0, read);
                keep -= read;
            }
            stream.Write(header);
            stream.Write(content);
            stream.Write(new byte[(Block - content.Length % Block) % Block]);
            stream.Write(new byte[2 * Block]);
        }
    }

    /// <summary>A valid ustar header (correct checksum), so the reader gets as far as judging its name, type and size.</summary>
    public static byte[] Header(string name, long size, char typeFlag, string linkName = "")
    {
        var h = new byte[Block];
        Put(h, 0, name);
        Put(h, 100, "0000644");
        Put(h, 108, "0000000");
        Put(h, 116, "0000000");
        Put(h, 124, Convert.ToString(size, 8).PadLeft(11, '0'));
        Put(h, 136, "00000000000");
        h[156] = (byte)typeFlag;
        Put(h, 157, linkName);
        Put(h, 257, "ustar");
        Put(h, 263, "00");
        Put(h, 148, "        ");
        int sum = h.Sum(b => b);
        Put(h, 148, Convert.ToString(sum, 8).PadLeft(6, '0'));
        h[154] = 0;
        h[155] = (byte)' ';
        return h;
    }

    private static IEnumerable<Region> SignatureRegions(FileStream stream, long data, long size)
    {
        var bytes = new byte[size];
        stream.Position = data;
        stream.ReadExactly(bytes);
        string text = Encoding.UTF8.GetString(bytes);
        string keyId = JsonDocument.Parse(text).RootElement.GetProperty("keyId").GetString()!;
        int at = text.IndexOf("\"" + keyId + "\"", StringComparison.Ordinal) + 1;
        yield return new Region(data, data + at, ManifestFiles.Signature, PackageRejection.BadSignature);
        yield return new Region(data + at, data + at + keyId.Length, "signature key id", PackageRejection.UntrustedKey);
        yield return new Region(data + at + keyId.Length, data + size, ManifestFiles.Signature, PackageRejection.BadSignature);
    }

    private static string Field(byte[] h, int offset, int length)
    {
        int end = Array.IndexOf(h, (byte)0, offset, length);
        return Encoding.ASCII.GetString(h, offset, (end < 0 ? offset + length : end) - offset);
    }

    private static void Put(byte[] h, int offset, string value) => Encoding.ASCII.GetBytes(value).CopyTo(h, offset);
}
