namespace EdgeTL.Agent.Deployment;

/// <summary>What a new model must achieve on this device before it is promoted.</summary>
public sealed record HealthGateOptions
{
    /// <summary>Largest median backbone latency per image (default 500 ms).</summary>
    public TimeSpan LatencyBudget { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Timed passes over the golden inputs; the median counts (default 5).</summary>
    public int Runs { get; init; } = 5;

    /// <summary>The problems of these options, if any.</summary>
    public IEnumerable<string> Problems()
    {
        if (LatencyBudget <= TimeSpan.Zero)
            yield return $"latency budget {LatencyBudget} is not positive";
        if (Runs < 1)
            yield return $"runs {Runs} < 1";
    }
}
