namespace EdgeTL.Agent.Resources;

/// <summary>The outcome of one <see cref="ResourceGate.Check"/>.</summary>
/// <param name="Allowed">True when training may start now.</param>
/// <param name="Reason">Why: each reading against its limit, or which sensors were not readable.</param>
/// <param name="TemperatureC">The hottest thermal zone in °C; null when not readable.</param>
/// <param name="LoadPerCore">The 1-minute load per core; null when not readable.</param>
/// <param name="PowerWatts">The power draw in watts; null when not readable or not monitored.</param>
public sealed record ResourceVerdict(bool Allowed, string Reason, double? TemperatureC, double? LoadPerCore, double? PowerWatts);
