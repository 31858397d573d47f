using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace EdgeTL.Protocol.Commands;

/// <summary>Arguments of <c>ingest</c>: a sample to store (and, unlabelled, to predict).</summary>
public sealed record IngestArgs
{
    /// <summary>The image (PNG, JPEG, BMP, WebP, …), base64 in JSON.</summary>
    [Description("The image file (PNG, JPEG, BMP, WebP), base64. The whole envelope must fit the device's command size limit (4 MiB by default).")]
    [MinLength(1)]
    public required byte[] Image { get; set; }

    /// <summary>Its class name (one of the device's classes), or null for an unlabelled sample.</summary>
    [Description("Class name (one of the device's classes, see status.classes); absent for an unlabelled sample.")]
    [Length(1, 128)]
    public string? Label { get; set; }

    /// <summary>The domain it comes from (<c>target</c> by default: what the device sees).</summary>
    [Description("Domain name; 'target' (what the device sees) by default.")]
    [Length(1, 64)]
    public string Domain { get; set; } = "target";
}
