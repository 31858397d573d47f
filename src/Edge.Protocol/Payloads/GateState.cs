namespace EdgeTL.Protocol.Payloads;

/// <summary>
/// Whether the device may train now: <c>available</c>, <c>deferred</c> (the resource gate is closed:
/// too hot, too busy, over its power budget) or <c>unavailable</c> (no libtorch on this device).
/// </summary>
/// <param name="State"><c>available</c>, <c>deferred</c> or <c>unavailable</c>.</param>
/// <param name="Reason">Why it is not available, for people.</param>
public sealed record GateState(string State, string? Reason = null)
{
    /// <summary>Training may run.</summary>
    public const string Available = "available";

    /// <summary>The resource gate is closed for now.</summary>
    public const string Deferred = "deferred";

    /// <summary>This device cannot train (no libtorch).</summary>
    public const string Unavailable = "unavailable";
}
