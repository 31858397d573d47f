namespace EdgeTL.Protocol.Payloads;

/// <summary>The <c>drift</c> metric: one drift test of a window of served samples against the reference, and what the device does about it.</summary>
/// <param name="Drift">Whether drift was called.</param>
/// <param name="Reasons">Which tests called it.</param>
/// <param name="Mmd2">MMD² of the window against the reference.</param>
/// <param name="PValue">Permutation p-value.</param>
/// <param name="MeanShift">Distance between feature means.</param>
/// <param name="AdaptiveWeight">The adaptation weight this shift suggests.</param>
/// <param name="WindowSize">Samples in the window.</param>
/// <param name="Action">On drift: <c>adapting</c>, or why not.</param>
public sealed record DriftEvent(bool Drift, IReadOnlyList<string> Reasons, double Mmd2, double PValue, double MeanShift, double AdaptiveWeight, int WindowSize, string? Action = null);
