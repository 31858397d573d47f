namespace EdgeTL.Agent.Sources;

/// <summary>A stream of samples arriving on the device (a watched folder, a camera, a message topic).</summary>
public interface ISampleSource
{
    /// <summary>
    /// Yields samples as they arrive, until <paramref name="cancellationToken"/> is cancelled
    /// (which ends the enumeration with an <see cref="OperationCanceledException"/>).
    /// </summary>
    IAsyncEnumerable<IncomingSample> ReadAllAsync(CancellationToken cancellationToken = default);
}
