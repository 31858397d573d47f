using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Serving;
using EdgeTL.Agent.Storage;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Trainer.Models;
using static TorchSharp.torch;

namespace EdgeTL.Agent.Services;

/// <summary>
/// The promotion policy: candidates are compared with what serves on the fixed holdout (rows neither
/// trained on) by <see cref="PromotionGuard"/>, and every outcome carries the guard's figures.
/// </summary>
public sealed class PromotionPolicy
{
    private readonly AgentOptions _options;
    private readonly ModelServing _serving;
    private readonly SampleFeatures _samples;

    /// <summary>Creates the policy with the configured minimum holdout and tolerance.</summary>
    public PromotionPolicy(AgentOptions options, ModelServing serving, SampleFeatures samples)
    {
        _options = options;
        _serving = serving;
        _samples = samples;
    }

    /// <summary>The guard with the configured minimum holdout and tolerance.</summary>
    public PromotionGuard Guard => new(_options.MinHoldout, _options.PromotionTolerance);

    /// <summary>Whether a label-free decision may promote (else too few labels refuse).</summary>
    public bool AllowLabelFree => _options.AllowLabelFreePromotion;

    /// <summary>Whether an adaptation judged on labels must also score higher than what serves.</summary>
    public bool AdaptationMustHelp => _options.AdaptationMustHelp;

    /// <summary>The fewest holdout rows a label-based decision needs.</summary>
    public int MinHoldout => _options.MinHoldout;

    /// <summary>The device head serving <paramref name="classes"/>, or null when none does (then a candidate is a first head).</summary>
    public HeadClassifier? ServingHeadOf(IReadOnlyList<string> classes) =>
        _serving.Server.Head is { } serving && serving.Labels.SequenceEqual(classes) ? serving : null;

    /// <summary>
    /// The label-based decision for <paramref name="candidate"/> against <paramref name="serving"/>
    /// on the rows of <paramref name="holdout"/> the serving head never trained on.
    /// </summary>
    public PromotionDecision CompareOnHoldout(nn.Module<Tensor, Tensor> candidate, HeadClassifier serving, LabelledFeatures holdout)
    {
        var rows = UnseenBy(serving, holdout);
        return Guard.Decide(CandidateScoring.Correct(candidate, rows), CandidateScoring.Correct(serving, rows));
    }

    /// <summary>
    /// The rows of <paramref name="holdout"/> that <paramref name="serving"/> never trained on: all of
    /// them when it trained on the train part only, else (cold start) those newer than its training
    /// samples. A head scored on its own training samples would look better than it is.
    /// </summary>
    public static LabelledFeatures UnseenBy(HeadClassifier serving, LabelledFeatures holdout)
    {
        ArgumentNullException.ThrowIfNull(serving);
        ArgumentNullException.ThrowIfNull(holdout);
        if (serving.Record.HoldoutExcluded)
            return holdout;
        return holdout.Subset([.. Enumerable.Range(0, holdout.Count).Where(i => holdout.SampleIds[i] > serving.Record.TrainedThroughSampleId)]);
    }

    /// <summary>
    /// Whether the serving model (backbone and head) never trained on labelled sample <paramref name="sampleId"/>, so that a candidate
    /// which reads no labels (label-free adaptation) may be judged on it. With a device head serving: not if the head trained on it
    /// (a train-part row up to its <see cref="HeadRecord.TrainedThroughSampleId"/>, a holdout row too unless it was
    /// <see cref="HeadRecord.HoldoutExcluded"/>). With a device-made version serving: not unless its <see cref="DeviceOrigin"/>
    /// vouches for the row (newer than everything it, its ancestors and the head it carries could have trained on, or a holdout row
    /// no head of it saw). A cloud package trained on no device sample, and no backbone fine-tune trains on the holdout.
    /// </summary>
    public bool NeverTrainedOn(long sampleId)
    {
        var server = _serving.Server;
        bool holdout = HoldoutSplit.IsHoldout(sampleId);
        if (server.Head is { } head && sampleId <= head.Record.TrainedThroughSampleId && !(holdout && head.Record.HoldoutExcluded))
            return false;
        if (server.Model?.Installed.Manifest.DeviceMade is not { } origin)
            return true;
        // A device head judges holdout rows as its own record says (a backbone fine-tune never trains on them).
        return (holdout && server.Head is not null) || origin.NeverTrainedOn(sampleId, holdout);
    }

    /// <summary>
    /// A target domain's samples split for an adaptation that reads no target label (<c>bn</c>, <c>tent</c>, <c>mmd</c>, <c>dann</c>):
    /// the labelled rows of <paramref name="classes"/> that are holdout rows or that the serving model never trained on
    /// (<see cref="NeverTrainedOn"/>) judge it, and stay out of everything it is made from; the rest are what it adapts or aligns to.
    /// </summary>
    public (List<SampleRecord> AdaptOn, List<SampleRecord> Judging) SplitTarget(IEnumerable<SampleRecord> samples, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(classes);
        var judging = samples.ToLookup(s => s.Label is not null && classes.Contains(s.Label) && (HoldoutSplit.IsHoldout(s.Id) || NeverTrainedOn(s.Id)));
        return ([.. judging[false]], [.. judging[true]]);
    }

    /// <summary>The answer when fewer than <paramref name="needed"/> target samples are left to adapt on once the judging rows are kept out.</summary>
    public static AgentException TooFewToAdaptOn(string what, string targetDomain, int needed, int judging, int left) =>
        new(AgentErrorCode.NotEnoughData,
            $"{what} needs at least {needed} samples of domain '{targetDomain}' besides the {judging} labelled ones kept to judge the result " +
            $"(the holdout, and labelled samples the serving model never trained on); there are {left}. Send unlabelled images of the domain.");

    /// <summary>
    /// The guard for a backbone: the candidate and what serves now (the served backbone with its
    /// serving head) are paired on the holdout rows the serving model never trained on: with a device
    /// head, those it did not see; with only the package's head, every holdout row (that head was
    /// trained in the cloud); with a device-made version's own head, those its origin vouches for. A backbone always replaces a serving model, so with too few such rows
    /// nothing is promoted, and the reason names n.
    /// </summary>
    public PromotionDecision BackboneDecision(TransferModel candidate, LabelledFeatures holdout, IReadOnlyList<SampleRecord> samples, int side)
    {
        var server = _serving.Server;
        // With no device head, the version's own head serves: the package's (trained on no device sample), or on a device-made
        // version the head it carried, which may be a cold-start head that fitted on holdout rows too.
        var rows = server.Head is { } serving ? UnseenBy(serving, holdout)
            : server.Model?.Predictor is null ? null
            : server.Model.Installed.Manifest.DeviceMade is null ? holdout
            : holdout.Subset([.. Enumerable.Range(0, holdout.Count).Where(i => NeverTrainedOn(holdout.SampleIds[i]))]);
        if (rows is null || rows.Count == 0)
            return Guard.Decide([], []);
        return Guard.Decide(BackboneTuning.Correct(candidate, rows, side), ServingCorrect(rows, samples));
    }

    /// <summary>Whether what serves now (backbone ONNX and the serving head) classifies each sample of <paramref name="rows"/> right.</summary>
    public bool[] ServingCorrect(LabelledFeatures rows, IReadOnlyList<SampleRecord> samples)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(samples);
        var images = samples.ToDictionary(s => s.Id, s => s.Image);
        var features = _samples.ExtractInBatches([.. rows.SampleIds.Select(id => images[id])], CancellationToken.None);
        var predictions = _serving.Server.Predict(features, rows.Count);
        return [.. predictions.Select((p, i) => p.Label == rows.Classes[rows.Labels[i]])];
    }

    /// <summary>The decision as the protocol reports it.</summary>
    public PromotionCheck ToWire(PromotionDecision d)
    {
        ArgumentNullException.ThrowIfNull(d);
        return new(d.Test, d.N, _options.MinHoldout, _options.PromotionTolerance, d.CandidateAccuracy, d.ServingAccuracy, d.LowerBound, d.Wins, d.Losses,
            d.Promoted, d.Reason, d.CandidateEntropy, d.ServingEntropy);
    }

    /// <summary>"not promoted: x" → "Not promoted: x." for a result message.</summary>
    public static string Sentence(string reason) => string.Concat(reason[..1].ToUpperInvariant(), reason.AsSpan(1), ".");
}
