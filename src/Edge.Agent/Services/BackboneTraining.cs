using System.Diagnostics;
using System.Globalization;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer;
using EdgeTL.Trainer.Training;

namespace EdgeTL.Agent.Services;

/// <summary>
/// <c>finetune</c> with <c>progressive</c> or <c>surgical</c>: the served backbone is trained on the
/// labelled samples' images, compared with what serves on held-out samples, exported to ONNX,
/// checked in ONNX Runtime, and installed as a device-made version of the served package.
/// </summary>
public sealed class BackboneTraining
{
    private readonly AgentOptions _options;
    private readonly AgentStore _store;
    private readonly ModelServing _serving;
    private readonly SampleFeatures _samples;
    private readonly PromotionPolicy _policy;
    private readonly ServingUpdates _updates;
    private readonly JobService _jobs;
    private readonly MetricsPublisher _metrics;
    private readonly CommandResults _results;

    /// <summary>Creates the backbone trainer.</summary>
    public BackboneTraining(AgentOptions options, AgentStore store, ModelServing serving, SampleFeatures samples, PromotionPolicy policy, ServingUpdates updates,
        JobService jobs, MetricsPublisher metrics, CommandResults results)
    {
        _options = options;
        _store = store;
        _serving = serving;
        _samples = samples;
        _policy = policy;
        _updates = updates;
        _jobs = jobs;
        _metrics = metrics;
        _results = results;
    }

    /// <summary>Trains the stages of <paramref name="settings"/>' mode, judges, and (if the guard says so) installs and serves the result.</summary>
    public CommandResult Run(CommandEnvelope command, FinetuneSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(settings);
        var clock = Stopwatch.StartNew();
        var begunOn = _updates.Identity();   // the candidate is judged against what serves now, and replaces only that
        var server = _serving.Server;
        var served = server.Model ?? throw new AgentException(AgentErrorCode.NoModel, "No model is deployed yet: send 'deploy' first.");
        var parent = served.Installed;
        var input = parent.Manifest.Input;
        if (input.Channels != 3)
            throw new AgentException(AgentErrorCode.TrainingUnavailable, $"The served backbone reads {input.Channels} channel(s); backbone fine-tuning trains 3-channel images only.");
        var samples = _store.Samples.Labelled();
        var all = _samples.LabelledPixelsOf(samples, input);
        var (train, holdout) = all.SplitByHoldout();   // the fixed holdout: no candidate trains on it
        var curve = new List<TrainingPoint>();
        var progress = new TrainingProgressReporter(command.Id, settings.Epochs, _options.TrainingMetricsInterval, curve, _jobs.PublishProgress);
        // The serving head is copied into the trainable model with no rollback in between (a rollback disposes the head it replaces).
        using var model = _serving.Exclusively(() =>
        {
            var head = server.Head;
            return BackboneTuning.Build(parent.PathOf(PackageFileRoles.Backbone)!, all.Classes.Count, head?.SeedHead,
                head is null && all.Classes.SequenceEqual(parent.Manifest.Labels) ? parent.PathOf(PackageFileRoles.Head) : null, settings.Seed, out _);
        });
        var trained = BackboneModes.TrainedGroups(settings.Mode);
        var frozen = model.Groups.Select(g => g.Name).Where(g => !trained.Contains(g)).ToList();
        BackboneReport Describe(string? version, double? delta, int checkedOn, PrecisionChoice? precision = null) =>
            new(trained, frozen, parent.Manifest.Counter, parent.Manifest.Version, version, delta, checkedOn, precision);

        TrainingResult result;
        try
        {
            result = BackboneTuning.Train(model, train, input.Size, settings, _updates.StopWhenChanged(progress, begunOn, $"the {settings.Mode} fine-tune"), cancellationToken);
        }
        catch (EdgeTrainerException e) when (e.Code is TrainerErrorCode.NonFiniteInput or TrainerErrorCode.NonFiniteLoss or TrainerErrorCode.Diverged)
        {
            var failed = new TrainingReport(settings.Mode, curve.Count, train.Count, holdout.Count, null, null, 0, null, null, false, clock.Elapsed.TotalSeconds, curve,
                Code: e.Code.ToString(), Reason: e.Message, Backbone: Describe(null, null, 0));
            HeadTraining.Record(_store, _metrics, command, "diverged", failed);
            throw;
        }

        var scored = holdout.Count > 0 ? holdout : train;
        double accuracy = BackboneTuning.Accuracy(model, scored, input.Size);
        var decision = _policy.BackboneDecision(model, holdout, samples, input.Size);
        var report = new TrainingReport(settings.Mode, result.Epochs.Count, train.Count, holdout.Count, accuracy, holdout.Count > 0 ? "holdout" : "train",
            decision.N, decision.CandidateAccuracy, decision.ServingAccuracy, decision.Promoted, clock.Elapsed.TotalSeconds, curve,
            Reason: decision.Reason, LowerBound: decision.LowerBound, Guard: _policy.ToWire(decision), Backbone: Describe(null, null, 0));
        if (!decision.Promoted)
        {
            HeadTraining.Record(_store, _metrics, command, "rejected", report);
            return _results.Result(command, CommandStatus.Failed, $"{PromotionPolicy.Sentence(decision.Reason)} The served model stays.", report, ProtocolJson.Default.TrainingReport);
        }

        var check = scored.Subset([.. Enumerable.Range(0, Math.Min(ServingUpdates.ExportCheckImages, scored.Count))]);
        var installed = _updates.InstallBackbone(command, settings.Mode, begunOn, parent, model, check, out double delta, out var precision);
        report = report with { Backbone = Describe(installed?.Manifest.Version, delta, check.Count, precision), Seconds = clock.Elapsed.TotalSeconds };
        if (installed is null)
        {
            report = report with
            {
                Promoted = false,
                Code = nameof(AgentErrorCode.ExportMismatch),
                Reason = $"Its ONNX export differs from the trained module by {delta.ToString("G3", CultureInfo.InvariantCulture)} (allowed {BackboneTuning.ExportTolerance.ToString("G3", CultureInfo.InvariantCulture)}).",
            };
            HeadTraining.Record(_store, _metrics, command, "export-mismatch", report);
            return _results.Result(command, CommandStatus.Failed, $"Not promoted: {report.Reason} The served model stays.", report, ProtocolJson.Default.TrainingReport);
        }
        HeadTraining.Record(_store, _metrics, command, "promoted", report);
        return _results.Result(command, CommandStatus.Ok,
            $"Serving {installed.Manifest.Version} (device-made from counter {parent.Manifest.Counter}): accuracy {accuracy:P1} ({report.AccuracyOn}).",
            report, ProtocolJson.Default.TrainingReport);
    }
}
