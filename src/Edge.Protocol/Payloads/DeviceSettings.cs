namespace EdgeTL.Protocol.Payloads;

/// <summary>The run-time settings in force (the result of <c>set-config</c>).</summary>
public sealed record DeviceSettings(DriftSettings Drift, int ColdStartShots, IReadOnlyList<string>? Classes, double MaxTemperatureC, double MaxLoadPerCore);
