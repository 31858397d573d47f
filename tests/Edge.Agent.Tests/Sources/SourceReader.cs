using EdgeTL.Agent.Sources;

namespace EdgeTL.Agent.Tests.Sources;

/// <summary>Reads a never-ending source for a while.</summary>
internal static class SourceReader
{
    /// <summary>Collects samples until <paramref name="count"/> arrived or <paramref name="timeout"/> passed.</summary>
    public static async Task<List<IncomingSample>> ReadAsync(ISampleSource source, int count, TimeSpan timeout)
    {
        var samples = new List<IncomingSample>();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await foreach (var s in source.ReadAllAsync(cts.Token))
            {
                samples.Add(s);
                if (samples.Count >= count)
                    break;
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
        }
        return samples;
    }

    /// <summary>Collects everything the source yields within <paramref name="duration"/>.</summary>
    public static Task<List<IncomingSample>> ReadForAsync(ISampleSource source, TimeSpan duration) =>
        ReadAsync(source, int.MaxValue, duration);
}
