namespace EdgeTL.Agent.Deployment;

/// <summary>The verdict of a <see cref="HealthGate"/> on a newly installed model.</summary>
/// <param name="Passed">True when the golden outputs matched and the latency was within budget.</param>
/// <param name="Reason">What passed, or exactly what failed (measured value against its limit).</param>
/// <param name="MaxAbsDifference">Largest |Δ| between the golden features and this device's (∞ without a golden set).</param>
/// <param name="MedianLatencyMs">Median backbone time per golden image, in milliseconds (NaN when not measured).</param>
public sealed record HealthReport(bool Passed, string Reason, double MaxAbsDifference, double MedianLatencyMs);
