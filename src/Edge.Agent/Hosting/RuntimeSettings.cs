namespace EdgeTL.Agent.Hosting;

/// <summary>
/// The settings <c>set-config</c> changes while the agent runs (persisted in the store, so they
/// survive restarts): drift policy, cold-start shots, the device's classes, and training gates.
/// </summary>
public sealed record RuntimeSettings
{
    /// <summary>Drift monitoring and automatic adaptation.</summary>
    public DriftPolicy Drift { get; init; } = new();

    /// <summary>Labelled samples per class before cold start fits the first head.</summary>
    public int ColdStartShots { get; init; } = 5;

    /// <summary>The device's classes (null: the package's labels).</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>Training waits while the hottest thermal zone is above this (°C).</summary>
    public double MaxTemperatureC { get; init; } = 80;

    /// <summary>Training waits while the 1-minute load per core is above this (the default is <see cref="AgentOptions.MaxLoadPerCore"/>'s).</summary>
    public double MaxLoadPerCore { get; init; } = 0.9;

    /// <summary>The problems of these settings (empty when valid).</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var p in Drift.Problems())
            yield return p;
        if (ColdStartShots < 1)
            yield return "coldStartShots must be at least 1.";
        if (Classes is { } c && (c.Count < 2 || c.Distinct(StringComparer.Ordinal).Count() != c.Count || c.Any(string.IsNullOrWhiteSpace)))
            yield return "classes must be at least 2 distinct non-empty names.";
        if (!(MaxTemperatureC > 0) || !(MaxLoadPerCore > 0))
            yield return "maxTemperatureC and maxLoadPerCore must be positive.";
    }
}
