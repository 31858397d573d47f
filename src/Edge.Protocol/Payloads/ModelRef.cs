namespace EdgeTL.Protocol.Payloads;

/// <summary>A served package: its name, version and counter (and architecture where known).</summary>
/// <param name="Name">Package name.</param>
/// <param name="Version">Semantic version (a device-made one carries <c>+device.…</c>).</param>
/// <param name="Counter">Package counter.</param>
/// <param name="Architecture">Backbone architecture, where known.</param>
/// <param name="Precision">How its backbone serves: <c>fp32</c>, <c>fp16</c> or <c>int8</c>.</param>
/// <param name="PrecisionReason">Why, when the package carries an int8 backbone (see <see cref="PrecisionChoice"/>).</param>
public sealed record ModelRef(string Name, string Version, long Counter, string? Architecture = null, string? Precision = null, string? PrecisionReason = null);
