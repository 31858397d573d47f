namespace EdgeTL.Cloud.Fleet;

/// <summary>Settings of a <see cref="FleetMetricsConsumer"/>.</summary>
public sealed record FleetMetricsConsumerOptions
{
    /// <summary>Broker host.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Broker port.</summary>
    public int Port { get; init; } = 1883;

    /// <summary>The fleet whose metrics are consumed.</summary>
    public required string Fleet { get; init; }

    /// <summary>
    /// The shared-subscription group: every consumer with the same group splits the fleet's
    /// metrics (each message goes to one of them); different groups each get everything.
    /// </summary>
    public string ShareGroup { get; init; } = "edgetl-cloud";

    /// <summary>Client id prefix (a unique suffix is added).</summary>
    public string ClientIdPrefix { get; init; } = "edgetl-metrics";

    /// <summary>How often the supervisor checks the connection and reconnects.</summary>
    public TimeSpan SupervisionInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The problems with these settings; empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Host))
            problems.Add("Host is empty.");
        if (Port is < 1 or > 65535)
            problems.Add($"Port {Port} is outside 1–65535.");
        foreach (var (name, value) in new[] { ("Fleet", Fleet), ("ShareGroup", ShareGroup) })
        {
            if (string.IsNullOrEmpty(value) || value.AsSpan().IndexOfAny("/+#$") >= 0)
                problems.Add($"{name} '{value}' must be one topic level.");
        }
        if (SupervisionInterval <= TimeSpan.Zero)
            problems.Add("SupervisionInterval must be positive.");
        return problems;
    }
}
