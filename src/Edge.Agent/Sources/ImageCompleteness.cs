namespace EdgeTL.Agent.Sources;

/// <summary>Whether an encoded JPEG or PNG has its end marker, i.e. was written to the end.</summary>
internal static class ImageCompleteness
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G'];
    private static ReadOnlySpan<byte> PngEnd => [(byte)'I', (byte)'E', (byte)'N', (byte)'D'];

    /// <summary>
    /// JPEG (starts FF D8): ends with the EOI marker FF D9, ignoring trailing zero padding some cameras add.
    /// PNG: the last chunk is IEND (its type sits 8 bytes from the end, before the CRC).
    /// Other formats: true (their own parser checks them).
    /// </summary>
    public static bool IsComplete(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8)
        {
            var trimmed = bytes.TrimEnd((byte)0);
            return trimmed.Length >= 4 && trimmed[^2] == 0xFF && trimmed[^1] == 0xD9;
        }
        if (bytes.StartsWith(PngSignature))
            return bytes.Length >= 20 && bytes[^8..^4].SequenceEqual(PngEnd);
        return true;
    }
}
