namespace EdgeTL.Cloud;

/// <summary>What one device reported for the published counter.</summary>
/// <param name="Device">Device id.</param>
/// <param name="Status">Promoted, RolledBack, Rejected, Failed, Newer (already runs a higher counter) or Pending (nothing before the timeout).</param>
/// <param name="Reason">The device's reason, when it gave one.</param>
/// <param name="Version">The version it now serves, when known.</param>
/// <param name="Counter">The counter it now serves, when known.</param>
internal sealed record DeviceOutcome(string Device, string Status, string? Reason, string? Version, long? Counter);
