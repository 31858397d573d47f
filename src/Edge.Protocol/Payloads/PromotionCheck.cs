namespace EdgeTL.Protocol.Payloads;

/// <summary>
/// The promotion guard's check of a candidate against the serving head, reported with every
/// outcome (promoted or not). Label-based: the exact one-sided 95 % lower bound on the accuracy
/// difference from the discordant pairs of a fixed holdout (see docs/architecture.md).
/// </summary>
/// <param name="Test"><c>discordant-pairs</c> (labelled holdout), <c>label-free</c> (target entropy and the source golden set) or <c>first-head</c> (nothing served to compare with).</param>
/// <param name="ComparedOn">Rows both were scored on (n): holdout rows neither trained on (for an adaptation, which reads no target label, also the labelled target rows the serving model never trained on); for <c>label-free</c>, source golden rows; 0 for <c>first-head</c>.</param>
/// <param name="MinHoldout">Fewest rows a promotion needs (the agent's setting).</param>
/// <param name="Tolerance">How much worse (accuracy as a fraction) the candidate may be at the bound.</param>
/// <param name="CandidateAccuracy">The candidate's accuracy on those rows (null when n = 0).</param>
/// <param name="ServingAccuracy">The serving head's accuracy on the same rows (null when n = 0).</param>
/// <param name="LowerBound">One-sided 95 % lower confidence bound on candidate − serving accuracy (null when n &lt; MinHoldout).</param>
/// <param name="Wins">Rows the candidate gets right and the serving head wrong.</param>
/// <param name="Losses">Rows the candidate gets wrong and the serving head right.</param>
/// <param name="Promoted">What the guard decided.</param>
/// <param name="Reason">The decision for people, naming n (<c>not promoted: too few holdout samples (n = 7 &lt; MinHoldout 20)</c>).</param>
/// <param name="CandidateEntropy">Label-free only: the candidate's mean prediction entropy on the target, nats.</param>
/// <param name="ServingEntropy">Label-free only: the serving head's mean prediction entropy on the same target rows.</param>
public sealed record PromotionCheck(string Test, int ComparedOn, int MinHoldout, double Tolerance, double? CandidateAccuracy, double? ServingAccuracy,
    double? LowerBound, int Wins, int Losses, bool Promoted, string Reason, double? CandidateEntropy, double? ServingEntropy);
