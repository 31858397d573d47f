namespace EdgeTL.Protocol.Payloads;

/// <summary>The last drift test: whether it called drift, its MMD² and permutation p-value.</summary>
public sealed record DriftSummary(bool Drift, double Mmd2, double PValue);
