using System.Globalization;
using SkiaSharp;

namespace EdgeTL.Agent.Sources;

/// <summary>
/// Netpbm PGM (P5 binary, P2 ASCII; maxval up to 65535) to PNG, because the runtime's decoder
/// (SkiaSharp) does not read PGM.
/// </summary>
internal static class PgmImage
{
    /// <summary>True when the bytes start with a PGM magic number.</summary>
    public static bool IsPgm(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 2 && bytes[0] == (byte)'P' && (bytes[1] == (byte)'5' || bytes[1] == (byte)'2');

    /// <summary>Converts a PGM image to an 8-bit grayscale PNG; false when the bytes are not a well-formed PGM.</summary>
    public static bool TryConvertToPng(byte[] pgm, out byte[] png)
    {
        png = [];
        if (!IsPgm(pgm))
            return false;
        bool ascii = pgm[1] == (byte)'2';
        int pos = 2;
        if (!TryReadHeaderInt(pgm, ref pos, out int width) || !TryReadHeaderInt(pgm, ref pos, out int height)
            || !TryReadHeaderInt(pgm, ref pos, out int maxValue))
            return false;
        if (width < 1 || height < 1 || maxValue < 1 || maxValue > 65535 || (long)width * height > 64L * 1024 * 1024)
            return false;
        var gray = new byte[width * height];
        if (ascii)
        {
            for (int i = 0; i < gray.Length; i++)
            {
                if (!TryReadHeaderInt(pgm, ref pos, out int v) || v > maxValue)
                    return false;
                gray[i] = Scale(v, maxValue);
            }
        }
        else
        {
            pos++; // exactly one whitespace byte after maxval
            int bytesPer = maxValue > 255 ? 2 : 1;
            if (pos + ((long)gray.Length * bytesPer) > pgm.Length)
                return false;
            for (int i = 0; i < gray.Length; i++, pos += bytesPer)
            {
                int v = bytesPer == 1 ? pgm[pos] : (pgm[pos] << 8) | pgm[pos + 1];
                gray[i] = Scale(Math.Min(v, maxValue), maxValue);
            }
        }
        var info = new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        System.Runtime.InteropServices.Marshal.Copy(gray, 0, bitmap.GetPixels(), gray.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        if (data is null)
            return false;
        png = data.ToArray();
        return true;
    }

    private static byte Scale(int value, int maxValue) =>
        maxValue == 255 ? (byte)value : (byte)Math.Round(value * 255.0 / maxValue);

    /// <summary>Skips whitespace and <c>#</c> comments, then reads a decimal number.</summary>
    private static bool TryReadHeaderInt(byte[] bytes, ref int pos, out int value)
    {
        value = 0;
        while (pos < bytes.Length)
        {
            if (bytes[pos] == (byte)'#')
            {
                while (pos < bytes.Length && bytes[pos] != (byte)'\n')
                    pos++;
            }
            else if (bytes[pos] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                pos++;
            }
            else
            {
                break;
            }
        }
        int start = pos;
        while (pos < bytes.Length && bytes[pos] >= (byte)'0' && bytes[pos] <= (byte)'9' && pos - start < 9)
            pos++;
        return pos > start
            && int.TryParse(bytes.AsSpan(start, pos - start), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
