using SkiaSharp;

namespace EdgeTL.Runtime.Preprocessing;

/// <summary>
/// Decodes JPEG, PNG, WebP, BMP or GIF bytes (SkiaSharp) into an 8-bit RGB HWC buffer that is
/// reused from call to call; undecodable bytes give a typed error.
/// </summary>
public sealed class ImageDecoder
{
    private byte[] _rgb = [];

    /// <summary>Decodes <paramref name="encoded"/>; the returned span is valid until the next call.</summary>
    public (ReadOnlyMemory<byte> Rgb, int Height, int Width) Decode(byte[] encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data)
            ?? throw new EdgeRuntimeException(RuntimeErrorCode.UndecodableImage, $"{encoded.Length} bytes are not an image SkiaSharp can decode.");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
            throw new EdgeRuntimeException(RuntimeErrorCode.UndecodableImage, $"Image decoding failed: {result}.");
        int pixels = info.Width * info.Height;
        if (_rgb.Length < pixels * 3)
            _rgb = new byte[pixels * 3];
        var rgba = bitmap.GetPixelSpan();
        for (int i = 0, o = 0; i < pixels; i++, o += 3)
        {
            _rgb[o] = rgba[i * 4];
            _rgb[o + 1] = rgba[(i * 4) + 1];
            _rgb[o + 2] = rgba[(i * 4) + 2];
        }
        return (_rgb.AsMemory(0, pixels * 3), info.Height, info.Width);
    }
}
