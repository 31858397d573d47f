namespace EdgeTL.Protocol.Payloads;

/// <summary>A head trained on the device: its id, kind (<c>head</c>, <c>adapted</c>), held-out or training accuracy, and the command that made it.</summary>
public sealed record HeadRef(long Id, string Kind, double Accuracy, string? Origin = null);
