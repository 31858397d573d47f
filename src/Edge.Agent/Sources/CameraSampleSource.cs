using System.Runtime.CompilerServices;

namespace EdgeTL.Agent.Sources;

/// <summary>Takes a picture every <see cref="Interval"/> and yields it, unlabelled; failed captures are skipped.</summary>
public sealed class CameraSampleSource : ISampleSource
{
    private readonly ICamera _camera;
    private readonly TimeProvider _time;

    /// <summary>Creates a source over <paramref name="camera"/>.</summary>
    /// <param name="camera">The camera (e.g. <see cref="V4l2Camera"/>).</param>
    /// <param name="interval">Time between two captures.</param>
    /// <param name="domain">The domain given to every sample.</param>
    /// <param name="time">The clock for the interval; <see cref="TimeProvider.System"/> by default.</param>
    public CameraSampleSource(ICamera camera, TimeSpan interval, string domain, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(camera);
        ArgumentException.ThrowIfNullOrWhiteSpace(domain);
        if (interval <= TimeSpan.Zero)
            throw new AgentException(AgentErrorCode.InvalidConfiguration, $"The capture interval must be positive, got {interval}.");
        _camera = camera;
        Interval = interval;
        Domain = domain;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Time between two captures.</summary>
    public TimeSpan Interval { get; }

    /// <summary>The domain given to every sample.</summary>
    public string Domain { get; }

    /// <inheritdoc/>
    public async IAsyncEnumerable<IncomingSample> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_camera.TryCapture(out var image) && image is { Length: > 0 })
                yield return new IncomingSample { Image = image, Label = null, Domain = Domain, Origin = "camera" };
            await Task.Delay(Interval, _time, cancellationToken).ConfigureAwait(false);
        }
    }
}
