namespace EdgeTL.Agent.Learning;

/// <summary>What <see cref="PromotionGuard"/> decided, with the figures it decided on.</summary>
/// <param name="Promoted">Whether the candidate may serve.</param>
/// <param name="Test"><c>discordant-pairs</c> (labelled holdout), <c>label-free</c> (entropy and source golden set) or <c>first-head</c> (nothing serves to compare with).</param>
/// <param name="N">Rows both models were scored on (the holdout; for <c>label-free</c>, the source golden set).</param>
/// <param name="CandidateAccuracy">The candidate's accuracy on those rows (null when n = 0).</param>
/// <param name="ServingAccuracy">The serving model's accuracy on the same rows (null when n = 0).</param>
/// <param name="LowerBound">The one-sided 95 % lower confidence bound on candidate − serving accuracy (null when not computed).</param>
/// <param name="Wins">Rows the candidate gets right and the serving model wrong.</param>
/// <param name="Losses">Rows the candidate gets wrong and the serving model right.</param>
/// <param name="Reason">The decision for people, starting with <c>promoted:</c>, <c>not promoted:</c> or <c>served without comparison:</c>.</param>
/// <param name="CandidateEntropy">Label-free only: the candidate's mean prediction entropy on the target (nats).</param>
/// <param name="ServingEntropy">Label-free only: the serving model's mean prediction entropy on the same target rows.</param>
public sealed record PromotionDecision(bool Promoted, string Test, int N, double? CandidateAccuracy, double? ServingAccuracy, double? LowerBound,
    int Wins, int Losses, string Reason, double? CandidateEntropy = null, double? ServingEntropy = null);
