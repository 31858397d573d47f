namespace EdgeTL.Protocol.Payloads;

/// <summary>The durable outbox: messages waiting for the broker, and metrics dropped since the store was made (outbox full).</summary>
public sealed record OutboxStats(long Depth, long DroppedTotal);
