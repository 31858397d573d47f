using EdgeTL.Protocol.Payloads;

namespace EdgeTL.Cloud;

/// <summary>The machine-readable result of <c>publish --json</c>.</summary>
/// <param name="Topic">Where the desired state was published (retained).</param>
/// <param name="Desired">The desired state.</param>
/// <param name="Devices">Outcome per waited-for device, in the order given.</param>
/// <param name="AllPromoted">True when every listed device promoted the package.</param>
internal sealed record PublishReport(string Topic, DesiredState Desired, IReadOnlyList<DeviceOutcome> Devices, bool AllPromoted);
