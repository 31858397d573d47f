using System.Diagnostics;
using System.Text.Json;
using EdgeTL.Agent.Learning;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Trainer.Adaptation;
using static TorchSharp.torch;

namespace EdgeTL.Agent;

/// <summary><c>adapt</c> and automatic adaptation after drift: DANN or MMD on the head's features, kept only when it helps the target.</summary>
public sealed partial class EdgeAgent
{
    private Task<CommandResult> AdaptAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var args = ArgsOf(command, ProtocolJson.Default.AdaptArgs);
        string method = args.Method ?? Settings.Drift.Method;
        int steps = args.Steps ?? Settings.Drift.AdaptSteps;
        RequireTrainingNow(CommandNames.Adapt);
        return StartJob(command, CommandNames.Adapt, token => Task.FromResult(RunAdaptation(command, method, steps, args.TargetDomain, token)));
    }

    /// <summary>Starts the drift policy's adaptation as an automatic job (no result topic; its outcome is the <c>adaptation</c> metric).</summary>
    private void StartAutomaticAdaptation()
    {
        var command = new CommandEnvelope($"auto-drift-{Interlocked.Increment(ref _autoJobs)}", CommandNames.Adapt, _time.GetUtcNow());
        var policy = Settings.Drift;
        _ = StartJob(command, CommandNames.Adapt, token => Task.FromResult(RunAdaptation(command, policy.Method, policy.AdaptSteps, "target", token)));
    }

    private CommandResult RunAdaptation(CommandEnvelope command, string method, int steps, string targetDomain, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var source = LabelledFeaturesOf([.. Store.Samples.Labelled().Where(s => s.Domain != targetDomain)], cancellationToken);
        var targetSamples = Store.Samples.Recent(targetDomain, 1000);
        if (targetSamples.Count < 10)
            throw new AgentException(AgentErrorCode.NotEnoughData, $"Adaptation needs at least 10 samples of domain '{targetDomain}'; there are {targetSamples.Count}.");
        var targetFeatures = ExtractInBatches([.. targetSamples.Select(s => s.Image)], cancellationToken);
        var labelledTarget = targetSamples.Where(s => s.Label is not null && source.Classes.Contains(s.Label)).ToList();
        using var scope = NewDisposeScope();
        using var sourceSet = HeadFitting.ToFeatureSet(source);
        var target = tensor(targetFeatures).reshape(targetSamples.Count, source.Dim);
        using var evaluation = labelledTarget.Count >= 2 ? HeadFitting.ToFeatureSet(LabelledFeaturesOf(labelledTarget, cancellationToken)) : null;
        var options = (method == "dann" ? AdaptationOptions.DannRecipe : new AdaptationOptions { Method = AdaptationMethod.Mmd }) with { Steps = steps };
        var result = DomainAdaptation.Run(sourceSet, target, evaluation, options, cancellationToken: cancellationToken);
        var curve = result.Adapted.Curve.Select(p => new AdaptationPoint(p.Step, p.SourceLoss, p.SourceAccuracy, p.TargetLoss, p.TargetAccuracy, p.TransferLoss, p.Weight, p.Reversal)).ToList();
        var report = new AdaptationReport(command.Id, method, steps, source.Count, targetSamples.Count, result.TargetScoreKind,
            result.Baseline.TargetScore, result.Adapted.TargetScore, result.TransferGain, result.Baseline.Mmd2, result.Adapted.Mmd2,
            result.Baseline.Cid, result.Adapted.Cid, result.Kept, clock.Elapsed.TotalSeconds, curve, "rolled-back");
        if (result.NegativeTransfer)
        {
            result.Model.Dispose();
            Store.Runs.Add("adapt", command.Id, "rolled-back", JsonSerializer.Serialize(report, ProtocolJson.Default.AdaptationReport));
            Metrics.Publish(MetricKinds.Adaptation, report, ProtocolJson.Default.AdaptationReport, droppable: false);
            return Result(command, CommandStatus.Failed, $"Adaptation did not help ({result.TargetScoreKind} {result.Baseline.TargetScore:F3} → {result.Adapted.TargetScore:F3}); the serving head stays.",
                report, ProtocolJson.Default.AdaptationReport);
        }
        var record = SaveAndPromote(result.Model, "adapted", result.Model.BottleneckDim, source.Classes, command.Id,
            result.Adapted.TargetAccuracy ?? result.Adapted.SourceAccuracy, source.NewestSampleId, driftReference: targetFeatures);
        report = report with { Outcome = "promoted", HeadId = record.Id };
        Store.Runs.Add("adapt", command.Id, "promoted", JsonSerializer.Serialize(report, ProtocolJson.Default.AdaptationReport));
        Metrics.Publish(MetricKinds.Adaptation, report, ProtocolJson.Default.AdaptationReport, droppable: false);
        return Result(command, CommandStatus.Ok, $"Adapted ({method}): serving head {record.Id}, transfer gain {result.TransferGain:+0.000;-0.000}.", report, ProtocolJson.Default.AdaptationReport);
    }
}
