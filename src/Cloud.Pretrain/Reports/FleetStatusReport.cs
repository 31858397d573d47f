namespace EdgeTL.Cloud;

/// <summary>The machine-readable result of <c>fleet status --json</c>.</summary>
/// <param name="Fleet">The fleet.</param>
/// <param name="Devices">Every device with a retained state, by id.</param>
internal sealed record FleetStatusReport(string Fleet, IReadOnlyList<DeviceStatus> Devices);
