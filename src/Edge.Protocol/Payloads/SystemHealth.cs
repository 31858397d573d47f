namespace EdgeTL.Protocol.Payloads;

/// <summary>The <c>system</c> metric, every <c>Agent:TelemetryInterval</c>: uptime, outbox, memory, sensors, what is served.</summary>
public sealed record SystemHealth(double UptimeS, long OutboxDepth, long DroppedTotal, double WorkingSetMb, double ManagedHeapMb, double? TemperatureC,
    double? LoadPerCore, double? PowerW, bool Connected, ModelRef? Model, string? Job, string Training);
