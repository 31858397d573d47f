using System.Text;

namespace EdgeTL.Runtime.Packaging;

/// <summary>
/// A deliberately strict ustar subset. The writer emits regular files only, with fixed modes,
/// owners and times, so the same content gives the same bytes. The reader accepts exactly
/// that: every header checksum must match, padding must be zero, links and directories are
/// refused, sizes are checked against limits before data is read, and the archive must end
/// with its two zero blocks and nothing after them.
/// </summary>
public static class StrictTar
{
    /// <summary>The tar block size: headers, padding and the end marker come in blocks of 512 bytes.</summary>
    public const int Block = 512;

    /// <summary>One entry seen by the reader: name, size, and where its data starts in the stream.</summary>
    public readonly record struct Entry(string Name, long Size, long DataOffset);

    /// <summary>Writes regular-file entries and the end-of-archive marker.</summary>
    public static void Write(Stream output, IEnumerable<(string Name, Stream Content)> entries)
    {
        var buffer = new byte[1 << 16];
        foreach (var (name, content) in entries)
        {
            long size = content.Length - content.Position;
            output.Write(Header(name, size, '0'));
            long copied = 0;
            int read;
            while ((read = content.Read(buffer, 0, buffer.Length)) > 0)
            {
                output.Write(buffer, 0, read);
                copied += read;
            }
            if (copied != size)
                throw new IOException($"'{name}' changed while it was packed.");
            output.Write(new byte[(Block - (int)(size % Block)) % Block]);
        }
        output.Write(new byte[Block * 2]);
    }

    /// <summary>A ustar header block (internal so tests can build hostile archives).</summary>
    internal static byte[] Header(string name, long size, char typeFlag, string linkName = "")
    {
        var h = new byte[Block];
        Ascii(h, 0, 100, name);
        Ascii(h, 100, 8, "0000644");
        Ascii(h, 108, 8, "0000000");
        Ascii(h, 116, 8, "0000000");
        Ascii(h, 124, 12, Convert.ToString(size, 8).PadLeft(11, '0'));
        Ascii(h, 136, 12, "00000000000");
        h[156] = (byte)typeFlag;
        Ascii(h, 157, 100, linkName);
        Ascii(h, 257, 6, "ustar");
        h[263] = (byte)'0';
        h[264] = (byte)'0';
        for (int i = 148; i < 156; i++)
            h[i] = (byte)' ';
        int sum = h.Sum(b => b);
        Ascii(h, 148, 6, Convert.ToString(sum, 8).PadLeft(6, '0'));
        h[154] = 0;
        h[155] = (byte)' ';
        return h;
    }

    /// <summary>
    /// Reads every header, validating as it goes, and calls <paramref name="onEntry"/> with the
    /// stream positioned at the entry's data (it may read up to <c>Size</c> bytes). Nothing is
    /// written anywhere.
    /// </summary>
    public static void Read(Stream input, PackageLimits limits, Action<Entry, Stream> onEntry)
    {
        var header = new byte[Block];
        long total = 0;
        int count = 0;
        while (true)
        {
            long headerOffset = input.Position;
            ReadExactly(input, header, $"header at byte {headerOffset}");
            if (header.All(b => b == 0))
            {
                ReadExactly(input, header, "the end-of-archive marker");
                if (header.Any(b => b != 0))
                    throw Reject(PackageRejection.Malformed, $"the end-of-archive marker at byte {headerOffset} is not two zero blocks");
                if (input.ReadByte() != -1)
                    throw Reject(PackageRejection.Malformed, $"bytes follow the end-of-archive marker at byte {input.Position - 1}");
                return;
            }
            var entry = ParseHeader(header, headerOffset, input.Position, limits);
            if (++count > limits.MaxFiles + 2)
                throw Reject(PackageRejection.TooLarge, $"more than {limits.MaxFiles} files");
            total += entry.Size;
            if (total > limits.MaxPackageBytes)
                throw Reject(PackageRejection.TooLarge, $"the package exceeds {limits.MaxPackageBytes} bytes");
            if (input.CanSeek && input.Length - entry.DataOffset < entry.Size)
                throw Reject(PackageRejection.Truncated, $"'{entry.Name}' needs {entry.Size} bytes, {input.Length - entry.DataOffset} remain");
            onEntry(entry, input);
            // Skip whatever the callback did not read, then check the padding.
            long end = entry.DataOffset + entry.Size;
            if (input.Position > end)
                throw new InvalidOperationException("An entry callback read past its entry.");
            Skip(input, end - input.Position, entry.Name);
            int padding = (int)((Block - (entry.Size % Block)) % Block);
            if (padding > 0)
            {
                var pad = new byte[padding];
                ReadExactly(input, pad, $"the padding of '{entry.Name}'");
                if (pad.Any(b => b != 0))
                    throw Reject(PackageRejection.Malformed, $"the padding after '{entry.Name}' is not zero");
            }
        }
    }

    private static Entry ParseHeader(byte[] h, long headerOffset, long dataOffset, PackageLimits limits)
    {
        // Exactly six octal digits, NUL, space: every bit of the field is significant.
        string stored = System.Text.Encoding.ASCII.GetString(h, 148, 6);
        if (h[154] != 0 || h[155] != ' ' || !TryOctal(stored, out long expected))
            throw Reject(PackageRejection.Malformed, $"header at byte {headerOffset} has an unreadable checksum");
        long actual = 0;
        for (int i = 0; i < Block; i++)
            actual += i is >= 148 and < 156 ? ' ' : h[i];
        if (actual != expected)
            throw Reject(PackageRejection.Malformed, $"header at byte {headerOffset} fails its checksum");
        if (Field(h, 257, 6) != "ustar" || h[263] != '0' || h[264] != '0')
            throw Reject(PackageRejection.Malformed, $"header at byte {headerOffset} is not ustar");
        string name = Field(h, 0, 100);
        if (Field(h, 345, 155).Length > 0)
            throw Reject(PackageRejection.Malformed, $"header at byte {headerOffset} uses a name prefix");
        char type = (char)h[156];
        if (type is '1' or '2')
            throw Reject(PackageRejection.Link, $"'{name}' is a link to '{Field(h, 157, 100)}'");
        if (PackagePaths.IsTraversal(name))
            throw Reject(PackageRejection.PathTraversal, $"entry '{name}' leaves the package root");
        if (type is not ('0' or '\0'))
            throw Reject(PackageRejection.Malformed, $"'{name}' is not a regular file (type '{type}')");
        if (PackagePaths.Problem(name) is string problem)
            throw Reject(PackageRejection.Malformed, $"entry '{name}': {problem}");
        if (!TryOctal(Field(h, 124, 12).Trim(' ', '\0'), out long size))
            throw Reject(PackageRejection.Malformed, $"'{name}' has an unreadable size");
        long limit = name is ManifestFiles.Manifest or ManifestFiles.Signature ? limits.MaxManifestBytes : limits.MaxFileBytes;
        if (size > limit)
            throw Reject(PackageRejection.TooLarge, $"'{name}' is {size} bytes, over the {limit}-byte limit");
        return new Entry(name, size, dataOffset);
    }

    private static void Skip(Stream input, long count, string name)
    {
        var buffer = new byte[Math.Min(count, 1 << 16)];
        while (count > 0)
        {
            int read = input.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
            if (read == 0)
                throw Reject(PackageRejection.Truncated, $"the archive ends inside '{name}'");
            count -= read;
        }
    }

    private static void ReadExactly(Stream input, byte[] buffer, string what)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = input.Read(buffer, total, buffer.Length - total);
            if (read == 0)
                throw Reject(PackageRejection.Truncated, $"the archive ends inside {what}");
            total += read;
        }
    }

    private static bool TryOctal(string text, out long value)
    {
        value = 0;
        if (text.Length == 0 || text.Length > 11)
            return false;
        foreach (char c in text)
        {
            if (c is < '0' or > '7')
                return false;
            value = value * 8 + (c - '0');
        }
        return true;
    }

    private static string Field(byte[] h, int offset, int length)
    {
        int end = Array.IndexOf(h, (byte)0, offset, length);
        return Encoding.ASCII.GetString(h, offset, (end < 0 ? offset + length : end) - offset);
    }

    private static void Ascii(byte[] h, int offset, int length, string value)
    {
        var bytes = Encoding.ASCII.GetBytes(value);
        if (bytes.Length > length)
            throw new ArgumentException($"'{value}' does not fit a {length}-byte tar field.");
        bytes.CopyTo(h, offset);
    }

    internal static PackageRejectedException Reject(PackageRejection reason, string message) => new(reason, message);
}
