namespace EdgeTL.Protocol.Payloads;

/// <summary>The drift policy in force.</summary>
public sealed record DriftSettings(bool Enabled, int WindowSize, double Alpha, bool AutoAdapt, string Method, int AdaptSteps);
