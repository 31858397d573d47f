using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Serving;
using EdgeTL.Protocol.Payloads;
using static TorchSharp.torch;

namespace EdgeTL.Agent;

/// <summary>
/// The promotion guard in the agent: candidates are compared with the serving head on the fixed
/// holdout (rows neither trained on), and every outcome carries the guard's figures.
/// </summary>
public sealed partial class EdgeAgent
{
    private PromotionGuard Guard => new(_options.MinHoldout, _options.PromotionTolerance);

    /// <summary>The device head serving <paramref name="classes"/>, or null when none does (then a candidate is a first head).</summary>
    private HeadClassifier? ServingHeadOf(IReadOnlyList<string> classes) =>
        Server.Head is { } serving && serving.Labels.SequenceEqual(classes) ? serving : null;

    /// <summary>
    /// The label-based decision for <paramref name="candidate"/> against <paramref name="serving"/>
    /// on the rows of <paramref name="holdout"/> the serving head never trained on.
    /// </summary>
    private PromotionDecision CompareOnHoldout(nn.Module<Tensor, Tensor> candidate, HeadClassifier serving, LabelledFeatures holdout)
    {
        var rows = UnseenBy(serving, holdout);
        return Guard.Decide(CandidateScoring.Correct(candidate, rows), CandidateScoring.Correct(serving, rows));
    }

    /// <summary>
    /// The rows of <paramref name="holdout"/> that <paramref name="serving"/> never trained on: all of
    /// them when it trained on the train part only, else (cold start) those newer than its training
    /// samples. A head scored on its own training samples would look better than it is.
    /// </summary>
    private static LabelledFeatures UnseenBy(HeadClassifier serving, LabelledFeatures holdout)
    {
        if (serving.Record.HoldoutExcluded)
            return holdout;
        return holdout.Subset([.. Enumerable.Range(0, holdout.Count).Where(i => holdout.SampleIds[i] > serving.Record.TrainedThroughSampleId)]);
    }

    /// <summary>The decision as the protocol reports it.</summary>
    private PromotionCheck ToWire(PromotionDecision d) =>
        new(d.Test, d.N, _options.MinHoldout, _options.PromotionTolerance, d.CandidateAccuracy, d.ServingAccuracy, d.LowerBound, d.Wins, d.Losses,
            d.Promoted, d.Reason, d.CandidateEntropy, d.ServingEntropy);

    /// <summary>"not promoted: x" → "Not promoted: x." for a result message.</summary>
    private static string Sentence(string reason) => string.Concat(reason[..1].ToUpperInvariant(), reason.AsSpan(1), ".");
}
