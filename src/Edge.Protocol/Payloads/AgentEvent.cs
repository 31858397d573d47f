namespace EdgeTL.Protocol.Payloads;

/// <summary>The <c>event</c> metric: something the device did by itself or refused, for people and dashboards.</summary>
/// <param name="Event">A stable name (<c>desired-state-ignored</c>, <c>gate-changed</c>, …).</param>
/// <param name="Reason">What happened.</param>
public sealed record AgentEvent(string Event, string Reason);
