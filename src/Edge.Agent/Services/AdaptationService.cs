using System.Diagnostics;
using System.Text.Json;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Trainer.Adaptation;
using static TorchSharp.torch;

namespace EdgeTL.Agent.Services;

/// <summary>
/// <c>adapt</c> and automatic adaptation after drift: DANN or MMD on the head's features, promoted
/// only when it beats its source-only baseline and passes the promotion guard against the serving
/// head; <c>bn</c>, <c>tent</c> and <c>auto</c> go to <see cref="LabelFreeAdaptation"/>.
/// </summary>
public sealed class AdaptationService
{
    private readonly AgentStore _store;
    private readonly SettingsService _settings;
    private readonly SampleFeatures _samples;
    private readonly PromotionPolicy _policy;
    private readonly ServingUpdates _updates;
    private readonly JobService _jobs;
    private readonly MetricsPublisher _metrics;
    private readonly CommandResults _results;
    private readonly LabelFreeAdaptation _labelFree;
    private readonly TimeProvider _time;

    /// <summary>Creates the service; drift that calls for adaptation starts the policy's as an automatic job.</summary>
    public AdaptationService(AgentStore store, SettingsService settings, SampleFeatures samples, PromotionPolicy policy, ServingUpdates updates, JobService jobs,
        MetricsPublisher metrics, CommandResults results, LabelFreeAdaptation labelFree, DriftMonitor drift, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(drift);
        _store = store;
        _settings = settings;
        _samples = samples;
        _policy = policy;
        _updates = updates;
        _jobs = jobs;
        _metrics = metrics;
        _results = results;
        _labelFree = labelFree;
        _time = time;
        drift.AdaptationWanted += StartAutomatic;
    }

    /// <summary>Runs <paramref name="method"/>: <c>auto</c> localizes the shift and picks; <c>bn</c> and <c>tent</c> adapt the backbone; <c>dann</c> and <c>mmd</c> the head's features.</summary>
    public CommandResult Run(CommandEnvelope command, string method, int? steps, string targetDomain, ShiftSummary? shift, CancellationToken cancellationToken)
    {
        if (method == "auto")
        {
            shift = _labelFree.LocalizeShift(targetDomain, cancellationToken);
            return Run(command, shift.Method, steps, targetDomain, shift, cancellationToken);
        }
        if (method is "bn" or "tent")
            return _labelFree.Run(command, method, steps ?? new TentOptions().Steps, targetDomain, shift, cancellationToken);
        return RunOnHead(command, method, steps ?? _settings.Current.Drift.AdaptSteps, targetDomain, shift, cancellationToken);
    }

    /// <summary>Starts the drift policy's adaptation as an automatic job (no result topic; its outcome is the <c>adaptation</c> metric).</summary>
    private void StartAutomatic()
    {
        var command = new CommandEnvelope(_jobs.AutomaticId("auto-drift"), CommandNames.Adapt, _time.GetUtcNow());
        var policy = _settings.Current.Drift;
        int? steps = policy.Method is "bn" or "tent" or "auto" ? null : policy.AdaptSteps;
        _ = _jobs.Start(command, CommandNames.Adapt, token => Run(command, policy.Method, steps, "target", null, token));
    }

    private CommandResult RunOnHead(CommandEnvelope command, string method, int steps, string targetDomain, ShiftSummary? shift, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var begunOn = _updates.Identity();   // the features come from what serves now, and the candidate replaces only that
        // The fixed holdout: source rows of it are the source golden set, labelled target rows of it the label-based holdout; neither is trained on.
        var (source, golden) = _samples.LabelledFeaturesOf([.. _store.Samples.Labelled().Where(s => s.Domain != targetDomain)], cancellationToken).SplitByHoldout();
        if (source.Count == 0)
            throw new AgentException(AgentErrorCode.NotEnoughData, "Every labelled source sample falls in the holdout, which no candidate trains on; label more samples.");
        // The candidate head learns from the source labels and the target's images, never a target label, so every labelled target
        // row the serving model never trained on can judge it (the holdout, and train-part rows no device head or device-made
        // backbone has seen); those rows are kept out of the target images it aligns to, so it is judged on images it never saw.
        var recent = _store.Samples.Recent(targetDomain, 1000);
        var (targetSamples, heldTarget) = _policy.SplitTarget(recent, source.Classes);
        if (targetSamples.Count < 10)
            throw PromotionPolicy.TooFewToAdaptOn("Adaptation", targetDomain, 10, heldTarget.Count, targetSamples.Count);
        var targetFeatures = _samples.ExtractInBatches([.. targetSamples.Select(s => s.Image)], cancellationToken);
        var targetJudging = heldTarget.Count > 0 ? _samples.LabelledFeaturesOf(heldTarget, cancellationToken) : null;
        using var scope = NewDisposeScope();
        using var sourceSet = HeadFitting.ToFeatureSet(source);
        var target = tensor(targetFeatures).reshape(targetSamples.Count, source.Dim);
        using var evaluation = targetJudging is { Count: >= 2 } ? HeadFitting.ToFeatureSet(targetJudging) : null;
        var options = (method == "dann" ? AdaptationOptions.DannRecipe : new AdaptationOptions { Method = AdaptationMethod.Mmd }) with { Steps = steps, BaselineSteps = steps };
        // The labelled target rows kept to judge it score the run (the target curves and accuracies); they do not pick between adapted and
        // source-only inside the run (that uses the unlabelled proxy): the promotion guard below is the one decision made on it.
        var result = DomainAdaptation.Run(sourceSet, target, evaluation, options, cancellationToken: cancellationToken);
        return _updates.WhileUnchanged(begunOn, $"the {method} adaptation", () =>
        {
            var decision = Decide(result.Model, source.Classes, targetJudging, golden, targetFeatures, targetSamples.Count);
            bool promote = !result.NegativeTransfer && decision.Promoted;
            var curve = result.Adapted.Curve.Select(p => new AdaptationPoint(p.Step, p.SourceLoss, p.SourceAccuracy, p.TargetLoss, p.TargetAccuracy, p.TransferLoss, p.Weight, p.Reversal)).ToList();
            var report = new AdaptationReport(command.Id, method, steps, source.Count, targetSamples.Count, result.TargetScoreKind,
                result.Baseline.TargetScore, result.Adapted.TargetScore, result.Adapted.TargetScore - result.Baseline.TargetScore, result.Baseline.Mmd2, result.Adapted.Mmd2,
                result.Baseline.Cid, result.Adapted.Cid, result.Kept, clock.Elapsed.TotalSeconds, curve, "rolled-back", Guard: _policy.ToWire(decision), Shift: shift);
            if (!promote)
            {
                result.Model.Dispose();
                Record(_store, _metrics, command, "rolled-back", report);
                string why = result.NegativeTransfer
                    ? $"Adaptation did not help ({result.TargetScoreKind} {result.Baseline.TargetScore:F3} → {result.Adapted.TargetScore:F3}); the source-only model kept instead is {decision.Reason}"
                    : $"Adaptation {decision.Reason}";
                return _results.Result(command, CommandStatus.Failed, $"{why}; the serving head stays.", report, ProtocolJson.Default.AdaptationReport);
            }
            var record = _updates.PromoteHead(result.Model, "adapted", result.Model.BottleneckDim, source.Classes, command.Id,
                result.Adapted.TargetAccuracy ?? result.Adapted.SourceAccuracy, source.NewestSampleId, holdoutExcluded: true, driftReference: targetFeatures);
            report = report with { Outcome = "promoted", HeadId = record.Id };
            Record(_store, _metrics, command, "promoted", report);
            return _results.Result(command, CommandStatus.Ok, $"Adapted ({method}): serving head {record.Id}, transfer gain {result.Adapted.TargetScore - result.Baseline.TargetScore:+0.000;-0.000} ({result.TargetScoreKind}); {decision.Reason}.",
                report, ProtocolJson.Default.AdaptationReport);
        }, candidate: result.Model);
    }

    /// <summary>
    /// The guard for an adaptation: label-based on the labelled target rows the serving head never trained on (the holdout, and
    /// train-part rows newer than its training samples, <see cref="PromotionPolicy.NeverTrainedOn"/>) when there are
    /// at least MinHoldout of them (or when label-free promotion is not allowed); else label-free:
    /// target entropy and the source golden set. Nothing serving these classes: nothing to compare, not promoted.
    /// </summary>
    private PromotionDecision Decide(AdaptationModel candidate, IReadOnlyList<string> classes, LabelledFeatures? targetJudging, LabelledFeatures golden,
        float[] targetFeatures, int targetCount)
    {
        if (_policy.ServingHeadOf(classes) is not { } serving)
            return new PromotionDecision(false, "discordant-pairs", 0, null, null, null, 0, 0,
                "not promoted: no device head of these classes serves to compare with (n = 0); an adaptation replaces a serving head");
        var labelled = targetJudging is null ? null : PromotionPolicy.UnseenBy(serving, targetJudging);
        if ((labelled?.Count ?? 0) >= _policy.MinHoldout || !_policy.AllowLabelFree)
            return labelled is null ? _policy.Guard.Decide([], []) : _policy.CompareOnHoldout(candidate, serving, labelled);
        var goldenRows = PromotionPolicy.UnseenBy(serving, golden);
        double candidateEntropy = CandidateScoring.MeanEntropy(CandidateScoring.Probabilities(candidate, targetFeatures, targetCount));
        double servingEntropy = CandidateScoring.MeanEntropy(serving.Probabilities(targetFeatures, targetCount));
        return _policy.Guard.DecideLabelFree(candidateEntropy, servingEntropy, CandidateScoring.Correct(candidate, goldenRows), CandidateScoring.Correct(serving, goldenRows));
    }

    /// <summary>The run record and the <c>adaptation</c> metric of an adaptation.</summary>
    internal static void Record(AgentStore store, MetricsPublisher metrics, CommandEnvelope command, string outcome, AdaptationReport report)
    {
        store.Runs.Add("adapt", command.Id, outcome, JsonSerializer.Serialize(report, ProtocolJson.Default.AdaptationReport));
        metrics.Publish(MetricKinds.Adaptation, report, ProtocolJson.Default.AdaptationReport, droppable: false);
    }
}
