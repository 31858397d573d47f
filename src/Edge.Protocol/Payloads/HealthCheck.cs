namespace EdgeTL.Protocol.Payloads;

/// <summary>The health gate's verdict on a new model: golden features within tolerance, latency within budget.</summary>
public sealed record HealthCheck(bool Passed, string? Reason, double? MaxAbsDifference, double? MedianLatencyMs);
