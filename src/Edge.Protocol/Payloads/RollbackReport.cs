namespace EdgeTL.Protocol.Payloads;

/// <summary>The result of <c>rollback</c>: the package (target <c>model</c>) or the head (target <c>head</c>) now served.</summary>
public sealed record RollbackReport(string Target, string? Version = null, long? Counter = null, long? HeadId = null);
