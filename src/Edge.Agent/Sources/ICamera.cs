namespace EdgeTL.Agent.Sources;

/// <summary>A camera that takes single encoded pictures.</summary>
public interface ICamera
{
    /// <summary>Takes one picture as encoded bytes (e.g. JPEG); false when the capture failed. Never throws for a failed capture.</summary>
    bool TryCapture(out byte[] encodedImage);
}
