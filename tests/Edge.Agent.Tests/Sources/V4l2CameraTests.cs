using EdgeTL.Agent.Sources;

namespace EdgeTL.Agent.Tests.Sources;

public sealed class V4l2CameraTests
{
    [Fact]
    public void TryCapture_NoCamera_ReturnsFalseWithoutThrowing()
    {
        using var camera = new V4l2Camera("/dev/video97", 320, 240);

        Assert.False(camera.TryCapture(out var image));
        Assert.Empty(image);
        Assert.False(camera.TryCapture(out _)); // and again: it retries, still without throwing
    }

    [Theory]
    [InlineData("/dev/camera")]
    [InlineData("/dev/video")]
    [InlineData("/dev/video0x")]
    public void Constructor_PathNotDevVideoN_ThrowsInvalidConfiguration(string path)
    {
        var e = Assert.Throws<AgentException>(() => new V4l2Camera(path, 640, 480));
        Assert.Equal(AgentErrorCode.InvalidConfiguration, e.Code);
    }

    [Fact]
    public void Constructor_DevicePath_ParsesIndex()
    {
        using var camera = new V4l2Camera("/dev/video2", 1280, 720);
        Assert.Equal(2, camera.DeviceIndex);
    }
}
