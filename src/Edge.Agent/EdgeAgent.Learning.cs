using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Serving;
using EdgeTL.Agent.Storage;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer;
using EdgeTL.Trainer.Adaptation;
using EdgeTL.Trainer.Meta;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using static TorchSharp.torch;

namespace EdgeTL.Agent;

/// <summary>Learning on the device: cold start, <c>finetune</c> and <c>adapt</c>, each guarded (evaluate → promote or keep the previous head).</summary>
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

    private string? TrainingBlocked()
    {
        if (!TorchRuntime.IsAvailable)
            return $"Training is unavailable on this device: {TorchRuntime.Describe()}";
        return TrainingGate();
    }

    private void MaybeStartColdStart()
    {
        long counter = Server.Counter;
        if (counter == 0 || Server.Head is not null || Jobs.Current is not null || Classes is not { } classes || TrainingBlocked() is not null)
            return;
        var counts = Store.Samples.LabelCounts();
        int shots = Settings.ColdStartShots;
        if (!classes.All(c => counts.GetValueOrDefault(c) >= shots))
            return;
        var command = new CommandEnvelope($"auto-coldstart-{counter}-{Interlocked.Increment(ref _autoJobs)}", "finetune", _time.GetUtcNow(), null, null);
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
        var record = SaveAndPromote(head, "head", 0, set.Classes, command.Id, accuracy, set.NewestSampleId);
        double sinceDeploy = DeployedAt is { } at ? (_time.GetUtcNow() - at).TotalSeconds : double.NaN;
        var data = new JsonObject
        {
            ["headId"] = record.Id,
            ["method"] = method,
            ["samples"] = set.Count,
            ["shotsPerClass"] = Settings.ColdStartShots,
            ["trainAccuracy"] = accuracy,
            ["fitSeconds"] = clock.Elapsed.TotalSeconds,
            ["secondsFromDeploymentToFirstModel"] = double.IsFinite(sinceDeploy) ? sinceDeploy : null,
        };
        Store.Runs.Add("cold-start", command.Id, "promoted", data.ToJsonString());
        if (!_coldStartReported)
        {
            Metrics.Publish("coldstart", (JsonObject)data.DeepClone(), droppable: false);
            _coldStartReported = true;
        }
        return Result(command, CommandStatus.Ok, $"Cold start: serving head {record.Id} ({method}).", data);
    }

    private Task<CommandResult> FinetuneAsync(CommandEnvelope command, CommandArgs args, CancellationToken cancellationToken)
    {
        var settings = new FinetuneSettings
        {
            Mode = args.OptionalString("mode") ?? "head-only",
            Epochs = args.WholeNumber("epochs", 30, 1, 1000),
            LearningRate = args.Number("lr", 1e-3),
            Schedule = args.OptionalString("schedule") ?? "cosine",
            Seed = args.WholeNumber("seed", 0),
        };
        var problems = settings.Problems().ToList();
        if (problems.Count > 0)
            throw new InvalidCommandArgumentsException("args." + string.Join(" args.", problems));
        if (settings.Mode == "progressive")
            throw new AgentException(AgentErrorCode.TrainingUnavailable,
                "Progressive unfreezing on the device is not built in this version of the agent: the served backbone is ONNX (frozen). Use mode 'head-only'.");
        if (TrainingBlocked() is { } reason)
            throw new AgentException(AgentErrorCode.ResourcesUnavailable, reason);
        return StartJob(command, "finetune", token => Task.FromResult(RunFinetune(command, settings, token)));
    }

    private CommandResult RunFinetune(CommandEnvelope command, FinetuneSettings settings, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var all = LabelledFeaturesOf(Store.Samples.Labelled(), cancellationToken);
        var (train, holdout) = all.Split(0.2, minimumForHoldout: 5, settings.Seed);
        var curve = new JsonArray();
        var progress = new SyncProgress<Trainer.Training.EpochMetrics>(e =>
        {
            var point = new JsonObject { ["job"] = command.Id, ["epoch"] = e.Epoch, ["trainLoss"] = e.TrainLoss, ["trainAccuracy"] = e.TrainAccuracy, ["seconds"] = e.Seconds };
            curve.Add((JsonNode)point.DeepClone());
            Metrics.Publish("training", point);
        });
        HeadModel head;
        TrainingResult result;
        try
        {
            (head, result) = HeadFitting.Fit(train, settings, progress, cancellationToken);
        }
        catch (EdgeTrainerException e) when (e.Code is TrainerErrorCode.NonFiniteInput or TrainerErrorCode.NonFiniteLoss or TrainerErrorCode.Diverged)
        {
            // Caught at the step the input or loss went bad, before it was applied: nothing to keep, the serving head stays. Reported, then answered with the code.
            var failed = new JsonObject { ["mode"] = settings.Mode, ["learningRate"] = settings.LearningRate, ["code"] = e.Code.ToString(), ["reason"] = e.Message, ["promoted"] = false, ["curve"] = curve };
            Store.Runs.Add("finetune", command.Id, "diverged", failed.ToJsonString());
            Metrics.Publish("training-outcome", failed, droppable: false);
            throw;
        }
        var scored = holdout ?? train;
        double accuracy = HeadFitting.Accuracy(head, scored);
        // The guard compares both heads on the same rows: holdout samples the serving head never saw.
        var comparison = holdout is null ? null : UnseenBy(holdout);
        double? baseline = comparison is null ? null : AccuracyOf(Server.Head!, comparison);
        double? candidate = comparison is null ? null : HeadFitting.Accuracy(head, comparison);
        bool promote = baseline is not { } b || candidate >= b - 0.01;
        var data = new JsonObject
        {
            ["mode"] = settings.Mode,
            ["epochs"] = result.Epochs.Count,
            ["trainSamples"] = train.Count,
            ["holdoutSamples"] = holdout?.Count ?? 0,
            ["accuracy"] = accuracy,
            ["accuracyOn"] = holdout is null ? "train" : "holdout",
            ["comparedOn"] = comparison?.Count ?? 0,
            ["candidateAccuracy"] = candidate,
            ["baselineAccuracy"] = baseline,
            ["promoted"] = promote,
            ["seconds"] = clock.Elapsed.TotalSeconds,
            ["curve"] = curve,
        };
        if (!promote)
        {
            head.Dispose();
            Store.Runs.Add("finetune", command.Id, "rejected", data.ToJsonString());
            Metrics.Publish("training-outcome", (JsonObject)data.DeepClone(), droppable: false);
            return Result(command, CommandStatus.Failed, $"Not promoted: on {comparison!.Count} new holdout samples it scores {candidate:P1}, below the serving head's {baseline:P1} − 1 pt; the serving head stays.", data);
        }
        var record = SaveAndPromote(head, "head", 0, all.Classes, command.Id, accuracy, train.NewestSampleId);
        data["headId"] = record.Id;
        Store.Runs.Add("finetune", command.Id, "promoted", data.ToJsonString());
        Metrics.Publish("training-outcome", (JsonObject)data.DeepClone(), droppable: false);
        return Result(command, CommandStatus.Ok, $"Serving head {record.Id}: accuracy {accuracy:P1} ({data["accuracyOn"]}).", data);
    }

    /// <summary>
    /// The rows of <paramref name="holdout"/> the serving head never trained on (samples newer
    /// than it), or null when no device head of these classes serves or no such row exists: a head
    /// scored on its own training samples would look better than it is and block fair promotions.
    /// </summary>
    private LabelledFeatures? UnseenBy(LabelledFeatures holdout)
    {
        if (Server.Head is not { } serving || !serving.Labels.SequenceEqual(holdout.Classes))
            return null;
        int[] unseen = [.. Enumerable.Range(0, holdout.Count).Where(i => holdout.SampleIds[i] > serving.Record.TrainedThroughSampleId)];
        return unseen.Length == 0 ? null : holdout.Subset(unseen);
    }

    private static double AccuracyOf(HeadClassifier head, LabelledFeatures set)
    {
        var probabilities = head.Probabilities(set.Features, set.Count);
        return probabilities.Where((p, i) => Array.IndexOf(p, p.Max()) == set.Labels[i]).Count() / (double)set.Count;
    }

    private Task<CommandResult> AdaptAsync(CommandEnvelope command, CommandArgs args, CancellationToken cancellationToken)
    {
        string method = args.OptionalString("method") ?? Settings.Drift.Method;
        if (method is not ("dann" or "mmd"))
            throw new InvalidCommandArgumentsException("args.method must be 'dann' or 'mmd'.");
        int steps = args.WholeNumber("steps", Settings.Drift.AdaptSteps, 1, 100_000);
        string targetDomain = args.OptionalString("targetDomain") ?? "target";
        if (TrainingBlocked() is { } reason)
            throw new AgentException(AgentErrorCode.ResourcesUnavailable, reason);
        return StartJob(command, "adapt", token => Task.FromResult(RunAdaptation(command, method, steps, targetDomain, token)));
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
        var data = new JsonObject
        {
            ["job"] = command.Id,
            ["method"] = method,
            ["steps"] = steps,
            ["sourceSamples"] = source.Count,
            ["targetSamples"] = targetSamples.Count,
            ["targetScoreKind"] = result.TargetScoreKind,
            ["baselineTargetScore"] = result.Baseline.TargetScore,
            ["adaptedTargetScore"] = result.Adapted.TargetScore,
            ["transferGain"] = result.TransferGain,
            ["mmd2Before"] = result.Baseline.Mmd2,
            ["mmd2After"] = result.Adapted.Mmd2,
            ["cidBefore"] = result.Baseline.Cid,
            ["cidAfter"] = result.Adapted.Cid,
            ["kept"] = result.Kept,
            ["seconds"] = clock.Elapsed.TotalSeconds,
            ["curve"] = new JsonArray([.. result.Adapted.Curve.Select(p => (JsonNode)new JsonObject
            {
                ["step"] = p.Step,
                ["sourceLoss"] = p.SourceLoss,
                ["sourceAccuracy"] = p.SourceAccuracy,
                ["targetLoss"] = p.TargetLoss,
                ["targetAccuracy"] = p.TargetAccuracy,
                ["transferLoss"] = p.TransferLoss,
                ["weight"] = p.Weight,
                ["reversal"] = p.Reversal,
            })]),
        };
        if (result.NegativeTransfer)
        {
            result.Model.Dispose();
            data["outcome"] = "rolled-back";
            Store.Runs.Add("adapt", command.Id, "rolled-back", data.ToJsonString());
            Metrics.Publish("adaptation", (JsonObject)data.DeepClone(), droppable: false);
            return Result(command, CommandStatus.Failed, $"Adaptation did not help ({result.TargetScoreKind} {result.Baseline.TargetScore:F3} → {result.Adapted.TargetScore:F3}); the serving head stays.", data);
        }
        var record = SaveAndPromote(result.Model, "adapted", result.Model.BottleneckDim, source.Classes, command.Id,
            result.Adapted.TargetAccuracy ?? result.Adapted.SourceAccuracy, source.NewestSampleId, driftReference: targetFeatures);
        data["outcome"] = "promoted";
        data["headId"] = record.Id;
        Store.Runs.Add("adapt", command.Id, "promoted", data.ToJsonString());
        Metrics.Publish("adaptation", (JsonObject)data.DeepClone(), droppable: false);
        return Result(command, CommandStatus.Ok, $"Adapted ({method}): serving head {record.Id}, transfer gain {result.TransferGain:+0.000;-0.000}.", data);
    }

    /// <summary>Writes a trained module, records it, and serves it.</summary>
    private HeadRecord SaveAndPromote(nn.Module<Tensor, Tensor> module, string kind, int bottleneck, IReadOnlyList<string> classes, string origin, double accuracy,
        long trainedThrough, float[]? driftReference = null)
    {
        var record = new HeadRecord
        {
            Kind = kind,
            PackageCounter = Server.Counter,
            FeatureDim = Server.Model!.Features.FeatureDim,
            BottleneckDim = bottleneck,
            Labels = [.. classes],
            Origin = origin,
            Accuracy = accuracy,
            TrainedThroughSampleId = trainedThrough,
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
