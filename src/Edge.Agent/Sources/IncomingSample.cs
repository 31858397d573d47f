namespace EdgeTL.Agent.Sources;

/// <summary>One image that arrived on the device, before it is stored or used for training.</summary>
public sealed record IncomingSample
{
    /// <summary>
    /// The encoded image (JPEG, PNG, WebP, BMP or GIF): bytes that
    /// <see cref="EdgeTL.Runtime.Preprocessing.ImageDecoder"/> decodes. Sources convert formats it
    /// cannot decode (PGM) before they hand a sample out.
    /// </summary>
#pragma warning disable CA1819 // An encoded image is a byte buffer handed from source to store; copying it per access would be waste.
    public required byte[] Image { get; init; }
#pragma warning restore CA1819

    /// <summary>The class label, or null for an unlabelled sample.</summary>
    public string? Label { get; init; }

    /// <summary>The domain the sample belongs to ("target" by default: the device's own data).</summary>
    public string Domain { get; init; } = "target";

    /// <summary>Where it came from, e.g. <c>folder:/data/in/cat/x.png</c>, <c>camera</c>, <c>mqtt</c>.</summary>
    public required string Origin { get; init; }
}
