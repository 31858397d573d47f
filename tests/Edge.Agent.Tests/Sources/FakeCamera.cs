using EdgeTL.Agent.Sources;

namespace EdgeTL.Agent.Tests.Sources;

/// <summary>A camera that returns real JPEG photos in turn and fails on the attempts it is told to.</summary>
public sealed class FakeCamera(IReadOnlyList<byte[]> photos, Func<int, bool>? failOnAttempt = null) : ICamera
{
    private int _next;

    /// <summary>Capture attempts so far, failed ones included.</summary>
    public int Attempts { get; private set; }

    public bool TryCapture(out byte[] encodedImage)
    {
        int attempt = Attempts++;
        if (failOnAttempt?.Invoke(attempt) == true)
        {
            encodedImage = [];
            return false;
        }
        encodedImage = photos[_next++ % photos.Count];
        return true;
    }
}
