namespace EdgeTL.Protocol.Payloads;

/// <summary>The data of a <c>failed</c> result: the error code (<c>NoModel</c>, <c>NotEnoughData</c>, <c>StorageFull</c>, <c>Diverged</c>, …).</summary>
public sealed record ErrorReport(string Code);
