using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace EdgeTL.Protocol.Commands;

/// <summary>Arguments of <c>predict</c>: one image, predicted and not stored.</summary>
public sealed record PredictArgs
{
    /// <summary>The image file, base64 in JSON.</summary>
    [Description("The image file (PNG, JPEG, BMP, WebP), base64.")]
    [MinLength(1)]
    public required byte[] Image { get; set; }
}
