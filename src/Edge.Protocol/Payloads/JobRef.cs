namespace EdgeTL.Protocol.Payloads;

/// <summary>A running job: its command id and kind (<c>deploy</c>, <c>finetune</c>, <c>adapt</c>, <c>cold-start</c>).</summary>
public sealed record JobRef(string Id, string Kind);
