using System.Text.Json;

namespace EdgeTL.Protocol.Payloads;

/// <summary>
/// Every message on <c>…/metrics/{kind}</c>: <c>{seq, device, kind, at, data}</c>. <see cref="Seq"/> increases
/// across restarts (the outbox's sequence), so a receiver sees order and drops repeats.
/// </summary>
public sealed record MetricMessage(long Seq, string Device, string Kind, DateTimeOffset At, JsonElement Data);
