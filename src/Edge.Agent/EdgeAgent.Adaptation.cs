using System.Diagnostics;
using System.Text.Json;
using EdgeTL.Agent.Learning;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Trainer.Adaptation;
using static TorchSharp.torch;

namespace EdgeTL.Agent;

/// <summary><c>adapt</c> and automatic adaptation after drift: DANN or MMD on the head's features, promoted only when it beats its source-only baseline and passes the promotion guard against the serving head; <c>bn</c>, <c>tent</c> and <c>auto</c> route to the backbone's label-free adaptation.</summary>
public sealed partial class EdgeAgent
{
    private Task<CommandResult> AdaptAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var args = ArgsOf(command, ProtocolJson.Default.AdaptArgs);
        string method = args.Method ?? Settings.Drift.Method;
        RequireTrainingNow(CommandNames.Adapt);
        return StartJob(command, CommandNames.Adapt, token => Task.FromResult(RunAdaptation(command, method, args.Steps, args.TargetDomain, null, token)));
    }

    /// <summary>Runs <paramref name="method"/>: <c>auto</c> localizes the shift and picks; <c>bn</c> and <c>tent</c> adapt the backbone; <c>dann</c> and <c>mmd</c> the head's features.</summary>
    private CommandResult RunAdaptation(CommandEnvelope command, string method, int? steps, string targetDomain, ShiftSummary? shift, CancellationToken cancellationToken)
    {
        if (method == "auto")
        {
            shift = LocalizeShift(targetDomain, cancellationToken);
            return RunAdaptation(command, shift.Method, steps, targetDomain, shift, cancellationToken);
        }
        if (method is "bn" or "tent")
            return RunLabelFreeAdaptation(command, method, steps ?? new TentOptions().Steps, targetDomain, shift, cancellationToken);
        return RunHeadAdaptation(command, method, steps ?? Settings.Drift.AdaptSteps, targetDomain, shift, cancellationToken);
    }

    /// <summary>Starts the drift policy's adaptation as an automatic job (no result topic; its outcome is the <c>adaptation</c> metric).</summary>
    private void StartAutomaticAdaptation()
    {
        var command = new CommandEnvelope($"auto-drift-{Interlocked.Increment(ref _autoJobs)}", CommandNames.Adapt, _time.GetUtcNow());
        var policy = Settings.Drift;
        int? steps = policy.Method is "bn" or "tent" or "auto" ? null : policy.AdaptSteps;
        _ = StartJob(command, CommandNames.Adapt, token => Task.FromResult(RunAdaptation(command, policy.Method, steps, "target", null, token)));
    }

    private CommandResult RunHeadAdaptation(CommandEnvelope command, string method, int steps, string targetDomain, ShiftSummary? shift, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        // The fixed holdout: source rows of it are the source golden set, labelled target rows of it the label-based holdout; neither is trained on.
        var (source, golden) = LabelledFeaturesOf([.. Store.Samples.Labelled().Where(s => s.Domain != targetDomain)], cancellationToken).SplitByHoldout();
        if (source.Count == 0)
            throw new AgentException(AgentErrorCode.NotEnoughData, "Every labelled source sample falls in the holdout, which no candidate trains on; label more samples.");
        var recent = Store.Samples.Recent(targetDomain, 1000);
        bool Held(Storage.SampleRecord s) => s.Label is not null && source.Classes.Contains(s.Label) && HoldoutSplit.IsHoldout(s.Id);
        var targetSamples = recent.Where(s => !Held(s)).ToList();
        if (targetSamples.Count < 10)
            throw new AgentException(AgentErrorCode.NotEnoughData, $"Adaptation needs at least 10 samples of domain '{targetDomain}' outside the holdout; there are {targetSamples.Count}.");
        var targetFeatures = ExtractInBatches([.. targetSamples.Select(s => s.Image)], cancellationToken);
        var heldTarget = recent.Where(Held).ToList();
        var targetHoldout = heldTarget.Count > 0 ? LabelledFeaturesOf(heldTarget, cancellationToken) : null;
        using var scope = NewDisposeScope();
        using var sourceSet = HeadFitting.ToFeatureSet(source);
        var target = tensor(targetFeatures).reshape(targetSamples.Count, source.Dim);
        using var evaluation = targetHoldout is { Count: >= 2 } ? HeadFitting.ToFeatureSet(targetHoldout) : null;
        var options = (method == "dann" ? AdaptationOptions.DannRecipe : new AdaptationOptions { Method = AdaptationMethod.Mmd }) with { Steps = steps, BaselineSteps = steps };
        // The labelled target holdout scores the run (the target curves and accuracies); it does not pick between adapted and
        // source-only inside the run (that uses the unlabelled proxy): the promotion guard below is the one decision made on it.
        var result = DomainAdaptation.Run(sourceSet, target, evaluation, options, cancellationToken: cancellationToken);
        var decision = AdaptationDecision(result.Model, source.Classes, targetHoldout, golden, targetFeatures, targetSamples.Count);
        bool promote = !result.NegativeTransfer && decision.Promoted;
        var curve = result.Adapted.Curve.Select(p => new AdaptationPoint(p.Step, p.SourceLoss, p.SourceAccuracy, p.TargetLoss, p.TargetAccuracy, p.TransferLoss, p.Weight, p.Reversal)).ToList();
        var report = new AdaptationReport(command.Id, method, steps, source.Count, targetSamples.Count, result.TargetScoreKind,
            result.Baseline.TargetScore, result.Adapted.TargetScore, result.Adapted.TargetScore - result.Baseline.TargetScore, result.Baseline.Mmd2, result.Adapted.Mmd2,
            result.Baseline.Cid, result.Adapted.Cid, result.Kept, clock.Elapsed.TotalSeconds, curve, "rolled-back", Guard: ToWire(decision), Shift: shift);
        if (!promote)
        {
            result.Model.Dispose();
            Store.Runs.Add("adapt", command.Id, "rolled-back", JsonSerializer.Serialize(report, ProtocolJson.Default.AdaptationReport));
            Metrics.Publish(MetricKinds.Adaptation, report, ProtocolJson.Default.AdaptationReport, droppable: false);
            string why = result.NegativeTransfer
                ? $"Adaptation did not help ({result.TargetScoreKind} {result.Baseline.TargetScore:F3} → {result.Adapted.TargetScore:F3}); the source-only model kept instead is {decision.Reason}"
                : $"Adaptation {decision.Reason}";
            return Result(command, CommandStatus.Failed, $"{why}; the serving head stays.", report, ProtocolJson.Default.AdaptationReport);
        }
        var record = SaveAndPromote(result.Model, "adapted", result.Model.BottleneckDim, source.Classes, command.Id,
            result.Adapted.TargetAccuracy ?? result.Adapted.SourceAccuracy, source.NewestSampleId, holdoutExcluded: true, driftReference: targetFeatures);
        report = report with { Outcome = "promoted", HeadId = record.Id };
        Store.Runs.Add("adapt", command.Id, "promoted", JsonSerializer.Serialize(report, ProtocolJson.Default.AdaptationReport));
        Metrics.Publish(MetricKinds.Adaptation, report, ProtocolJson.Default.AdaptationReport, droppable: false);
        return Result(command, CommandStatus.Ok, $"Adapted ({method}): serving head {record.Id}, transfer gain {result.Adapted.TargetScore - result.Baseline.TargetScore:+0.000;-0.000} ({result.TargetScoreKind}); {decision.Reason}.",
            report, ProtocolJson.Default.AdaptationReport);
    }

    /// <summary>
    /// The guard for an adaptation: label-based on the labelled target holdout rows when there are
    /// at least MinHoldout of them (or when label-free promotion is not allowed); else label-free:
    /// target entropy and the source golden set. Nothing serving these classes: nothing to compare, not promoted.
    /// </summary>
    private PromotionDecision AdaptationDecision(AdaptationModel candidate, IReadOnlyList<string> classes, LabelledFeatures? targetHoldout, LabelledFeatures golden,
        float[] targetFeatures, int targetCount)
    {
        if (ServingHeadOf(classes) is not { } serving)
            return new PromotionDecision(false, "discordant-pairs", 0, null, null, null, 0, 0,
                "not promoted: no device head of these classes serves to compare with (n = 0); an adaptation replaces a serving head");
        var labelled = targetHoldout is null ? null : UnseenBy(serving, targetHoldout);
        if ((labelled?.Count ?? 0) >= _options.MinHoldout || !_options.AllowLabelFreePromotion)
            return labelled is null ? Guard.Decide([], []) : CompareOnHoldout(candidate, serving, labelled);
        var goldenRows = UnseenBy(serving, golden);
        double candidateEntropy = CandidateScoring.MeanEntropy(CandidateScoring.Probabilities(candidate, targetFeatures, targetCount));
        double servingEntropy = CandidateScoring.MeanEntropy(serving.Probabilities(targetFeatures, targetCount));
        return Guard.DecideLabelFree(candidateEntropy, servingEntropy, CandidateScoring.Correct(candidate, goldenRows), CandidateScoring.Correct(serving, goldenRows));
    }
}
