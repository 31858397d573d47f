using System.Globalization;
using System.Runtime.InteropServices;
using Iot.Device.Media;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeTL.Agent.Sources;

/// <summary>
/// A V4L2 camera (<c>/dev/videoN</c>) through Iot.Device.Bindings' <see cref="VideoDevice"/>,
/// capturing MJPEG frames (JPEG bytes). The device is opened on the first capture; opening it
/// without a camera succeeds and the capture throws, so every failure is logged and
/// <see cref="TryCapture"/> returns false — it never throws.
/// </summary>
public sealed partial class V4l2Camera : ICamera, IDisposable
{
    private readonly ILogger _logger;
    private VideoDevice? _device;

    /// <summary>Describes the camera; nothing is opened yet.</summary>
    /// <param name="devicePath">The V4L2 device, <c>/dev/videoN</c>.</param>
    /// <param name="width">Capture width in pixels.</param>
    /// <param name="height">Capture height in pixels.</param>
    /// <param name="logger">Where failed captures are logged.</param>
    /// <exception cref="AgentException"><see cref="AgentErrorCode.InvalidConfiguration"/> for a path that is not <c>/dev/videoN</c> or a non-positive size.</exception>
    public V4l2Camera(string devicePath = "/dev/video0", int width = 640, int height = 480, ILogger<V4l2Camera>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(devicePath);
        const string prefix = "/dev/video";
        if (!devicePath.StartsWith(prefix, StringComparison.Ordinal)
            || !int.TryParse(devicePath.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            throw new AgentException(AgentErrorCode.InvalidConfiguration, $"Camera device '{devicePath}' is not of the form /dev/videoN.");
        if (width < 1 || height < 1)
            throw new AgentException(AgentErrorCode.InvalidConfiguration, $"Capture size must be positive, got {width}×{height}.");
        DevicePath = devicePath;
        DeviceIndex = index;
        Width = width;
        Height = height;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The V4L2 device path.</summary>
    public string DevicePath { get; }

    /// <summary>N in <c>/dev/videoN</c> (the binding's bus id).</summary>
    public int DeviceIndex { get; }

    /// <summary>Capture width in pixels.</summary>
    public int Width { get; }

    /// <summary>Capture height in pixels.</summary>
    public int Height { get; }

    /// <inheritdoc/>
    public bool TryCapture(out byte[] encodedImage)
    {
        encodedImage = [];
        try
        {
            _device ??= VideoDevice.Create(new VideoConnectionSettings(DeviceIndex, ((uint)Width, (uint)Height), VideoPixelFormat.MJPEG));
            var frame = _device.Capture();
            if (frame is not { Length: > 0 })
            {
                LogCaptureFailed(_logger, DevicePath, "empty frame", null);
                return false;
            }
            encodedImage = frame;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException
                                      or ExternalException or PlatformNotSupportedException or ArgumentException)
        {
            LogCaptureFailed(_logger, DevicePath, e.Message, e);
            _device?.Dispose();
            _device = null; // reopen on the next try (the camera may be plugged in later)
            return false;
        }
    }

    /// <summary>Closes the device.</summary>
    public void Dispose()
    {
        _device?.Dispose();
        _device = null;
    }

    [LoggerMessage(EventId = 5001, EventName = "CameraCaptureFailed", Level = LogLevel.Warning, Message = "Capture from {Device} failed: {Reason}.")]
    private static partial void LogCaptureFailed(ILogger logger, string device, string reason, Exception? exception);
}
