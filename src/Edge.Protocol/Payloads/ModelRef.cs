namespace EdgeTL.Protocol.Payloads;

/// <summary>A served package: its name, version and counter (and architecture where known).</summary>
public sealed record ModelRef(string Name, string Version, long Counter, string? Architecture = null);
