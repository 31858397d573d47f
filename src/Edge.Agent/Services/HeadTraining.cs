using System.Diagnostics;
using System.Text.Json;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Trainer;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;

namespace EdgeTL.Agent.Services;

/// <summary>
/// <c>finetune mode=head</c>: a head trained on the labelled samples' features (the fixed holdout
/// left out), promoted over the serving head only by the promotion guard.
/// </summary>
public sealed class HeadTraining
{
    private readonly AgentOptions _options;
    private readonly AgentStore _store;
    private readonly SampleFeatures _samples;
    private readonly PromotionPolicy _policy;
    private readonly ServingUpdates _updates;
    private readonly JobService _jobs;
    private readonly MetricsPublisher _metrics;
    private readonly CommandResults _results;

    /// <summary>Creates the head trainer.</summary>
    public HeadTraining(AgentOptions options, AgentStore store, SampleFeatures samples, PromotionPolicy policy, ServingUpdates updates, JobService jobs,
        MetricsPublisher metrics, CommandResults results)
    {
        _options = options;
        _store = store;
        _samples = samples;
        _policy = policy;
        _updates = updates;
        _jobs = jobs;
        _metrics = metrics;
        _results = results;
    }

    /// <summary>Trains, judges and (if the guard says so) serves a new head; the result says which and why.</summary>
    public CommandResult Run(CommandEnvelope command, FinetuneSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(settings);
        var clock = Stopwatch.StartNew();
        var begunOn = _updates.Identity();   // the features come from what serves now, and the candidate replaces only that
        var all = _samples.LabelledFeaturesOf(_store.Samples.Labelled(), cancellationToken);
        // The fixed holdout: the same sample ids every run, never trained on, growing as labels arrive.
        var (train, holdout) = all.SplitByHoldout();
        if (train.Count == 0)
            throw new AgentException(AgentErrorCode.NotEnoughData, $"All {all.Count} labelled samples fall in the holdout, which no candidate trains on; label more samples.");
        var curve = new List<TrainingPoint>();
        var progress = new TrainingProgressReporter(command.Id, settings.Epochs, _options.TrainingMetricsInterval, curve, _jobs.PublishProgress);
        HeadModel head;
        TrainingResult result;
        try
        {
            (head, result) = HeadFitting.Fit(train, settings, _updates.StopWhenChanged(progress, begunOn, "the fine-tune"), cancellationToken);
        }
        catch (EdgeTrainerException e) when (e.Code is TrainerErrorCode.NonFiniteInput or TrainerErrorCode.NonFiniteLoss or TrainerErrorCode.Diverged)
        {
            // Caught at the step the input or loss went bad, before it was applied: nothing to keep, the serving head stays. Reported, then answered with the code.
            var failed = new TrainingReport(settings.Mode, curve.Count, train.Count, holdout.Count, null, null, 0, null, null, false, clock.Elapsed.TotalSeconds, curve,
                Code: e.Code.ToString(), Reason: e.Message);
            Record(command, "diverged", failed);
            throw;
        }
        double accuracy = HeadFitting.Accuracy(head, holdout.Count > 0 ? holdout : train);
        return _updates.WhileUnchanged(begunOn, "the fine-tune", () => JudgeAndServe(command, settings, head, result, all, train, holdout, accuracy, curve, clock), candidate: head);
    }

    private CommandResult JudgeAndServe(CommandEnvelope command, FinetuneSettings settings, HeadModel head, TrainingResult result, LabelledFeatures all,
        LabelledFeatures train, LabelledFeatures holdout, double accuracy, List<TrainingPoint> curve, Stopwatch clock)
    {
        bool heldOut = holdout.Count > 0;
        var decision = _policy.ServingHeadOf(all.Classes) is { } serving
            ? _policy.CompareOnHoldout(head, serving, holdout)
            : PromotionGuard.FirstHead("no device head of these classes serves yet, this is the first one");
        var report = new TrainingReport(settings.Mode, result.Epochs.Count, train.Count, holdout.Count, accuracy, heldOut ? "holdout" : "train",
            decision.N, decision.CandidateAccuracy, decision.ServingAccuracy, decision.Promoted, clock.Elapsed.TotalSeconds, curve,
            Reason: decision.Reason, LowerBound: decision.LowerBound, Guard: _policy.ToWire(decision));
        if (!decision.Promoted)
        {
            head.Dispose();
            Record(command, "rejected", report);
            return _results.Result(command, CommandStatus.Failed, $"{PromotionPolicy.Sentence(decision.Reason)} The serving head stays.", report, ProtocolJson.Default.TrainingReport);
        }
        var record = _updates.PromoteHead(head, "head", 0, all.Classes, command.Id, accuracy, train.NewestSampleId, holdoutExcluded: true);
        report = report with { HeadId = record.Id };
        Record(command, "promoted", report);
        return _results.Result(command, CommandStatus.Ok, $"Serving head {record.Id}: accuracy {accuracy:P1} ({report.AccuracyOn}); {decision.Reason}.", report, ProtocolJson.Default.TrainingReport);
    }

    /// <summary>The run record and the <c>training-outcome</c> metric of a fine-tune.</summary>
    internal static void Record(AgentStore store, MetricsPublisher metrics, CommandEnvelope command, string outcome, TrainingReport report)
    {
        store.Runs.Add("finetune", command.Id, outcome, JsonSerializer.Serialize(report, ProtocolJson.Default.TrainingReport));
        metrics.Publish(MetricKinds.TrainingOutcome, report, ProtocolJson.Default.TrainingReport, droppable: false);
    }

    private void Record(CommandEnvelope command, string outcome, TrainingReport report) => Record(_store, _metrics, command, outcome, report);
}
