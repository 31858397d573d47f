using System.Diagnostics;
using System.Text.Json;
using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Serving;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer;
using EdgeTL.Trainer.Meta;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using static TorchSharp.torch;

namespace EdgeTL.Agent;

/// <summary>Learning on the device: cold start (a first head, served without comparison) and <c>finetune</c> (guarded: promoted over the serving head only by <see cref="PromotionGuard"/>).</summary>
public sealed partial class EdgeAgent
{
    private bool _coldStartReported;
    private int _autoJobs;

    /// <summary>
    /// Decides whether training may run now (the resource gate: thermal, load, power). Returns
    /// null when it may, else the reason. By default reads sysfs thermal zones, /proc/loadavg
    /// and hwmon power against the settings' limits; replaceable (tests, add-on sensors).
    /// </summary>
    public Func<string?> TrainingGate { get; set; }

    private string? SysfsResourceGate()
    {
        var verdict = ReadResources();
        return verdict.Allowed ? null : $"Training deferred: {verdict.Reason}";
    }

    /// <summary>The device's sensors (sysfs thermal zones, /proc/loadavg, hwmon power) against the settings' limits.</summary>
    private Resources.ResourceVerdict ReadResources() =>
        new Resources.ResourceGate(new Resources.SysfsThermalSensor(), new Resources.ProcLoadSensor(), new Resources.HwmonPowerSensor(),
            new Resources.ResourceGateOptions { MaxTemperatureC = Settings.MaxTemperatureC, MaxLoadPerCore = Settings.MaxLoadPerCore }).Check();

    private void MaybeStartColdStart()
    {
        long counter = Server.Counter;
        // A device-made version carries the head it was tuned with: no cold start on it.
        if (counter == 0 || Server.Head is not null || Server.Model?.Installed.Manifest.DeviceMade is not null || Jobs.Current is not null || Classes is not { } classes)
            return;
        var counts = Store.Samples.LabelCounts();
        int shots = Settings.ColdStartShots;
        if (!classes.All(c => counts.GetValueOrDefault(c) >= shots))
            return;
        string id = $"auto-coldstart-{counter}";
        var gate = ReadGate();
        if (gate.State != GateState.Available)
        {
            // Visible, once per wait; the gate loop starts it when the gate opens.
            if (!_coldStartDeferred)
            {
                _coldStartDeferred = true;
                ReportAutomaticDeferral(id, "cold-start", gate.Reason!);
            }
            return;
        }
        _coldStartDeferred = false;
        var command = new CommandEnvelope($"{id}-{Interlocked.Increment(ref _autoJobs)}", CommandNames.Finetune, _time.GetUtcNow());
        _ = StartJob(command, "cold-start", token => Task.FromResult(RunColdStart(command, token)));
    }

    private CommandResult RunColdStart(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var set = LabelledFeaturesOf(Store.Samples.Labelled(), cancellationToken);
        string method;
        nn.Module<Tensor, Tensor> head;
        if (Server.Model?.Installed.PathOf(PackageFileRoles.HeadInitialization) is { } initPath && File.Exists(initPath)
            && MetaInitialization.Load(initPath) is var init && init.Ways == set.Classes.Count && init.FeatureDim == set.Dim)
        {
            using (init)
                head = HeadFitting.FromInitialization(init, set);
            method = $"meta-learned initialization ({init.Options.Algorithm}, {init.Options.InnerSteps} steps)";
        }
        else
        {
            head = HeadFitting.Fit(set, new FinetuneSettings { Epochs = 30 }, cancellationToken: cancellationToken).Head;
            method = "head-only fit (30 epochs)";
        }
        double accuracy = HeadFitting.Accuracy(head, set);
        // The first head of a deployment: nothing serves to be worse than, so nothing is compared (and the report says so).
        // It fits on every labelled sample (a few shots are all there are), so later candidates are compared with it only on newer holdout rows.
        var first = PromotionGuard.FirstHead("the first head of this deployment, fitted on every labelled sample");
        var record = SaveAndPromote(head, "head", 0, set.Classes, command.Id, accuracy, set.NewestSampleId, holdoutExcluded: false);
        double? sinceDeploy = DeployedAt is { } at ? (_time.GetUtcNow() - at).TotalSeconds : null;
        var report = new ColdStartReport(record.Id, method, set.Count, Settings.ColdStartShots, accuracy, clock.Elapsed.TotalSeconds, sinceDeploy, first.N, ToWire(first));
        Store.Runs.Add("cold-start", command.Id, "promoted", JsonSerializer.Serialize(report, ProtocolJson.Default.ColdStartReport));
        if (!_coldStartReported)
        {
            Metrics.Publish(MetricKinds.ColdStart, report, ProtocolJson.Default.ColdStartReport, droppable: false);
            _coldStartReported = true;
        }
        return Result(command, CommandStatus.Ok, $"Cold start: serving head {record.Id} ({method}).", report, ProtocolJson.Default.ColdStartReport);
    }

    private Task<CommandResult> FinetuneAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var args = ArgsOf(command, ProtocolJson.Default.FinetuneArgs);
        var settings = new FinetuneSettings { Mode = args.Mode, Epochs = args.Epochs, LearningRate = args.LearningRate, Schedule = args.Schedule, Seed = args.Seed };
        if (settings.TrainsBackbone && settings.Epochs < BackboneModes.MinimumEpochs)
            throw new InvalidCommandArgumentsException($"args.epochs must be at least {BackboneModes.MinimumEpochs} for mode '{settings.Mode}' (the head first, then the backbone's stages).");
        RequireTrainingNow(CommandNames.Finetune);
        return StartJob(command, CommandNames.Finetune, token => Task.FromResult(settings.TrainsBackbone
            ? RunBackboneFinetune(command, settings, token)
            : RunFinetune(command, settings, token)));
    }

    private CommandResult RunFinetune(CommandEnvelope command, FinetuneSettings settings, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var all = LabelledFeaturesOf(Store.Samples.Labelled(), cancellationToken);
        // The fixed holdout: the same sample ids every run, never trained on, growing as labels arrive.
        var (train, holdout) = all.SplitByHoldout();
        if (train.Count == 0)
            throw new AgentException(AgentErrorCode.NotEnoughData, $"All {all.Count} labelled samples fall in the holdout, which no candidate trains on; label more samples.");
        var curve = new List<TrainingPoint>();
        var progress = new TrainingProgressReporter(command.Id, settings.Epochs, _options.TrainingMetricsInterval, curve, PublishProgress);
        HeadModel head;
        TrainingResult result;
        try
        {
            (head, result) = HeadFitting.Fit(train, settings, progress, cancellationToken);
        }
        catch (EdgeTrainerException e) when (e.Code is TrainerErrorCode.NonFiniteInput or TrainerErrorCode.NonFiniteLoss or TrainerErrorCode.Diverged)
        {
            // Caught at the step the input or loss went bad, before it was applied: nothing to keep, the serving head stays. Reported, then answered with the code.
            var failed = new TrainingReport(settings.Mode, curve.Count, train.Count, holdout.Count, null, null, 0, null, null, false, clock.Elapsed.TotalSeconds, curve,
                Code: e.Code.ToString(), Reason: e.Message);
            Store.Runs.Add("finetune", command.Id, "diverged", JsonSerializer.Serialize(failed, ProtocolJson.Default.TrainingReport));
            Metrics.Publish(MetricKinds.TrainingOutcome, failed, ProtocolJson.Default.TrainingReport, droppable: false);
            throw;
        }
        bool heldOut = holdout.Count > 0;
        double accuracy = HeadFitting.Accuracy(head, heldOut ? holdout : train);
        var decision = ServingHeadOf(all.Classes) is { } serving
            ? CompareOnHoldout(head, serving, holdout)
            : PromotionGuard.FirstHead("no device head of these classes serves yet, this is the first one");
        var report = new TrainingReport(settings.Mode, result.Epochs.Count, train.Count, holdout.Count, accuracy, heldOut ? "holdout" : "train",
            decision.N, decision.CandidateAccuracy, decision.ServingAccuracy, decision.Promoted, clock.Elapsed.TotalSeconds, curve,
            Reason: decision.Reason, LowerBound: decision.LowerBound, Guard: ToWire(decision));
        if (!decision.Promoted)
        {
            head.Dispose();
            Store.Runs.Add("finetune", command.Id, "rejected", JsonSerializer.Serialize(report, ProtocolJson.Default.TrainingReport));
            Metrics.Publish(MetricKinds.TrainingOutcome, report, ProtocolJson.Default.TrainingReport, droppable: false);
            return Result(command, CommandStatus.Failed, $"{Sentence(decision.Reason)} The serving head stays.", report, ProtocolJson.Default.TrainingReport);
        }
        var record = SaveAndPromote(head, "head", 0, all.Classes, command.Id, accuracy, train.NewestSampleId, holdoutExcluded: true);
        report = report with { HeadId = record.Id };
        Store.Runs.Add("finetune", command.Id, "promoted", JsonSerializer.Serialize(report, ProtocolJson.Default.TrainingReport));
        Metrics.Publish(MetricKinds.TrainingOutcome, report, ProtocolJson.Default.TrainingReport, droppable: false);
        return Result(command, CommandStatus.Ok, $"Serving head {record.Id}: accuracy {accuracy:P1} ({report.AccuracyOn}); {decision.Reason}.", report, ProtocolJson.Default.TrainingReport);
    }

    /// <summary>Publishes a throttled progress point and keeps it with the job, so an interrupted job can say how far it got.</summary>
    private void PublishProgress(TrainingProgress point)
    {
        Metrics.Publish(MetricKinds.Training, point, ProtocolJson.Default.TrainingProgress);
        if (!IsAutomatic(point.Job))
            Store.Inbox.RecordProgress(point.Job, JsonSerializer.Serialize(point, ProtocolJson.Default.TrainingProgress));
    }

    /// <summary>Writes a trained module, records it, and serves it.</summary>
    private HeadRecord SaveAndPromote(nn.Module<Tensor, Tensor> module, string kind, int bottleneck, IReadOnlyList<string> classes, string origin, double accuracy,
        long trainedThrough, bool holdoutExcluded, float[]? driftReference = null)
    {
        var record = new HeadRecord
        {
            Kind = kind,
            PackageCounter = Server.Counter,
            ModelVersion = HeadKey(Server.Model!.Installed.Manifest),
            FeatureDim = Server.Model!.Features.FeatureDim,
            BottleneckDim = bottleneck,
            Labels = [.. classes],
            Origin = origin,
            Accuracy = accuracy,
            TrainedThroughSampleId = trainedThrough,
            HoldoutExcluded = holdoutExcluded,
            Status = "candidate",
            CreatedTicks = _time.GetUtcNow().UtcTicks,
        };
        record.Id = Store.Heads.Add(record);
        record.Path = Path.Combine(_options.DataDirectory, "heads", $"head-{record.Id}.bin");
        var classifier = new HeadClassifier(module, record);
        try
        {
            classifier.Save();
        }
        catch (Exception e) when (Storage.DiskSpace.IsFull(e))
        {
            classifier.Dispose();
            Store.Heads.Reject(record.Id);
            throw new AgentException(AgentErrorCode.StorageFull, "The new head could not be saved: the disk is full. The serving head stays.", e);
        }
        Store.Heads.Update(record);
        Store.Heads.Promote(record.Id);
        record.Status = "serving";
        Server.ReplaceHead(classifier);
        ResetDriftReference(driftReference);
        PublishState();
        return record;
    }
}
