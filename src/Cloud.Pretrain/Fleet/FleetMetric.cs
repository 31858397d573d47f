namespace EdgeTL.Cloud.Fleet;

/// <summary>One metric a device published on <c>edgetl/{fleet}/{device}/metrics/{kind}</c>.</summary>
/// <param name="Device">The publishing device.</param>
/// <param name="Kind">The metric kind (training, drift, deployment, …).</param>
/// <param name="Topic">The full topic.</param>
/// <param name="Payload">The payload bytes (the agent's <c>{seq, device, kind, at, data}</c> JSON).</param>
public sealed record FleetMetric(string Device, string Kind, string Topic, ReadOnlyMemory<byte> Payload);
