using System.Globalization;
using EdgeTL.Agent.Storage;
using EdgeTL.Agent.Tests.Integration;

namespace EdgeTL.Reliability.Tests.Harness;

/// <summary>What an independent subscriber saw and what the agent's store says, for the delivery checks.</summary>
public static class Observed
{
    /// <summary>The <c>edgetl-seq</c> of every metric <paramref name="observer"/> received, in arrival order (repeats included).</summary>
    public static List<long> MetricSequences(TestClient observer) =>
        [.. observer.Received.Where(m => m.Sequence is not null && m.Topic.Contains("/metrics/", StringComparison.Ordinal)).Select(m => long.Parse(m.Sequence!, CultureInfo.InvariantCulture))];

    /// <summary>Opens the stopped agent's store: the last sequence number recorded and the rows not yet acknowledged.</summary>
    public static (long LastSequence, int Waiting) Outbox(AgentProcess agent)
    {
        if (agent.Pid != 0)
            throw new InvalidOperationException("Stop the agent before reading its store.");
        using var store = new AgentStore(Path.Combine(agent.DataDirectory, "agent.db"));
        return (store.Outbox.LastSequence, store.Outbox.Count);
    }
}
