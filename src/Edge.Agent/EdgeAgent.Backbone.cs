using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer;
using EdgeTL.Trainer.Training;

namespace EdgeTL.Agent;

/// <summary>
/// <c>finetune</c> with <c>progressive</c> or <c>surgical</c>: the served backbone is trained on the
/// labelled samples' images, compared with what serves on held-out samples, exported to ONNX,
/// checked in ONNX Runtime, and installed as a device-made version of the served package.
/// </summary>
public sealed partial class EdgeAgent
{
    /// <summary>Images checked module-against-ONNX after export.</summary>
    private const int ExportCheckImages = 8;

    /// <summary>Where exports wait for their check and install (under the data directory; emptied at start).</summary>
    private const string ExportsFolder = "exports";

    private CommandResult RunBackboneFinetune(CommandEnvelope command, FinetuneSettings settings, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var served = Server.Model ?? throw new AgentException(AgentErrorCode.NoModel, "No model is deployed yet: send 'deploy' first.");
        var parent = served.Installed;
        var input = parent.Manifest.Input;
        if (input.Channels != 3)
            throw new AgentException(AgentErrorCode.TrainingUnavailable, $"The served backbone reads {input.Channels} channel(s); backbone fine-tuning trains 3-channel images only.");
        var samples = Store.Samples.Labelled();
        var all = LabelledPixelsOf(samples, input);
        var (train, holdout) = all.SplitByHoldout();   // the fixed holdout: no candidate trains on it
        var curve = new List<TrainingPoint>();
        var progress = new TrainingProgressReporter(command.Id, settings.Epochs, _options.TrainingMetricsInterval, curve, PublishProgress);
        using var model = BackboneTuning.Build(parent.PathOf(PackageFileRoles.Backbone)!, all.Classes.Count, Server.Head?.SeedHead,
            Server.Head is null && all.Classes.SequenceEqual(parent.Manifest.Labels) ? parent.PathOf(PackageFileRoles.Head) : null, settings.Seed, out _);
        var trained = BackboneModes.TrainedGroups(settings.Mode);
        var frozen = model.Groups.Select(g => g.Name).Where(g => !trained.Contains(g)).ToList();
        BackboneReport Describe(string? version, double? delta, int checkedOn) =>
            new(trained, frozen, parent.Manifest.Counter, parent.Manifest.Version, version, delta, checkedOn);

        TrainingResult result;
        try
        {
            result = BackboneTuning.Train(model, train, input.Size, settings, progress, cancellationToken);
        }
        catch (EdgeTrainerException e) when (e.Code is TrainerErrorCode.NonFiniteInput or TrainerErrorCode.NonFiniteLoss or TrainerErrorCode.Diverged)
        {
            var failed = new TrainingReport(settings.Mode, curve.Count, train.Count, holdout.Count, null, null, 0, null, null, false, clock.Elapsed.TotalSeconds, curve,
                Code: e.Code.ToString(), Reason: e.Message, Backbone: Describe(null, null, 0));
            Store.Runs.Add("finetune", command.Id, "diverged", JsonSerializer.Serialize(failed, ProtocolJson.Default.TrainingReport));
            Metrics.Publish(MetricKinds.TrainingOutcome, failed, ProtocolJson.Default.TrainingReport, droppable: false);
            throw;
        }

        var scored = holdout.Count > 0 ? holdout : train;
        double accuracy = BackboneTuning.Accuracy(model, scored, input.Size);
        var decision = BackboneDecision(model, holdout, samples, input.Size);
        var report = new TrainingReport(settings.Mode, result.Epochs.Count, train.Count, holdout.Count, accuracy, holdout.Count > 0 ? "holdout" : "train",
            decision.N, decision.CandidateAccuracy, decision.ServingAccuracy, decision.Promoted, clock.Elapsed.TotalSeconds, curve,
            Reason: decision.Reason, LowerBound: decision.LowerBound, Guard: ToWire(decision), Backbone: Describe(null, null, 0));
        if (!decision.Promoted)
        {
            Store.Runs.Add("finetune", command.Id, "rejected", JsonSerializer.Serialize(report, ProtocolJson.Default.TrainingReport));
            Metrics.Publish(MetricKinds.TrainingOutcome, report, ProtocolJson.Default.TrainingReport, droppable: false);
            return Result(command, CommandStatus.Failed, $"{Sentence(decision.Reason)} The served model stays.", report, ProtocolJson.Default.TrainingReport);
        }

        var check = scored.Subset([.. Enumerable.Range(0, Math.Min(ExportCheckImages, scored.Count))]);
        var installed = InstallDeviceVersion(command, settings.Mode, parent, model, check, out double delta);
        report = report with { Backbone = Describe(installed?.Manifest.Version, delta, check.Count), Seconds = clock.Elapsed.TotalSeconds };
        if (installed is null)
        {
            report = report with
            {
                Promoted = false,
                Code = nameof(AgentErrorCode.ExportMismatch),
                Reason = $"Its ONNX export differs from the trained module by {delta.ToString("G3", CultureInfo.InvariantCulture)} (allowed {BackboneTuning.ExportTolerance.ToString("G3", CultureInfo.InvariantCulture)}).",
            };
            Store.Runs.Add("finetune", command.Id, "export-mismatch", JsonSerializer.Serialize(report, ProtocolJson.Default.TrainingReport));
            Metrics.Publish(MetricKinds.TrainingOutcome, report, ProtocolJson.Default.TrainingReport, droppable: false);
            return Result(command, CommandStatus.Failed, $"Not promoted: {report.Reason} The served model stays.", report, ProtocolJson.Default.TrainingReport);
        }
        Store.Runs.Add("finetune", command.Id, "promoted", JsonSerializer.Serialize(report, ProtocolJson.Default.TrainingReport));
        Metrics.Publish(MetricKinds.TrainingOutcome, report, ProtocolJson.Default.TrainingReport, droppable: false);
        return Result(command, CommandStatus.Ok,
            $"Serving {installed.Manifest.Version} (device-made from counter {parent.Manifest.Counter}): accuracy {accuracy:P1} ({report.AccuracyOn}).",
            report, ProtocolJson.Default.TrainingReport);
    }

    /// <summary>
    /// The promotion guard for a backbone: the candidate and what serves now (the served backbone with
    /// its serving head) are paired on the holdout rows the serving model never trained on: with a
    /// device head, those it did not see; with only the package's head, every holdout row (that head
    /// was trained in the cloud). A backbone always replaces a serving model, so with too few such
    /// rows nothing is promoted, and the reason names n.
    /// </summary>
    private PromotionDecision BackboneDecision(EdgeTL.Trainer.Models.TransferModel candidate, LabelledFeatures holdout, IReadOnlyList<SampleRecord> samples, int side)
    {
        var rows = Server.Head is { } serving ? UnseenBy(serving, holdout) : Server.Model?.Predictor is null ? null : holdout;
        if (rows is null || rows.Count == 0)
            return Guard.Decide([], []);
        return Guard.Decide(BackboneTuning.Correct(candidate, rows, side), ServingCorrect(rows, samples));
    }

    /// <summary>Whether what serves now (backbone ONNX and the serving head) classifies each sample of <paramref name="rows"/> right.</summary>
    private bool[] ServingCorrect(LabelledFeatures rows, IReadOnlyList<SampleRecord> samples)
    {
        var images = samples.ToDictionary(s => s.Id, s => s.Image);
        var features = ExtractInBatches([.. rows.SampleIds.Select(id => images[id])], CancellationToken.None);
        var predictions = Server.Predict(features, rows.Count);
        return [.. predictions.Select((p, i) => p.Label == rows.Classes[rows.Labels[i]])];
    }

    /// <summary>
    /// Exports the trained model, checks the export in ONNX Runtime against the module, and installs and
    /// serves it as a device-made version of the served package. Null (nothing changed) when the
    /// export differs by more than <see cref="BackboneTuning.ExportTolerance"/>.
    /// </summary>
    private InstalledModel? InstallDeviceVersion(CommandEnvelope command, string mode, InstalledModel parent, Trainer.Models.TransferModel model,
        LabelledFeatures check, out double delta)
    {
        var input = parent.Manifest.Input;
        string folder = Path.Combine(_options.DataDirectory, ExportsFolder, $"{Guid.NewGuid():N}");
        try
        {
            (string backbone, string head, delta) = BackboneTuning.Export(model, check, input.Size, folder);
            if (!(delta <= BackboneTuning.ExportTolerance))
                return null;
            var replaced = new Dictionary<string, string>(StringComparer.Ordinal) { [PackageFileRoles.Backbone] = backbone, [PackageFileRoles.Head] = head };
            if (parent.Manifest.Golden is { } golden && parent.PathOf(PackageFileRoles.GoldenInputs) is { } goldenInputs && parent.PathOf(PackageFileRoles.GoldenOutputs) is not null)
                replaced[PackageFileRoles.GoldenOutputs] = BackboneTuning.GoldenOutputs(backbone, goldenInputs, golden.Count, input.Size);
            var now = _time.GetUtcNow();
            string version = string.Create(CultureInfo.InvariantCulture, $"{parent.Manifest.Version.Split('+')[0]}+device.{now:yyyyMMddHHmmss}");
            var origin = new DeviceOrigin(parent.Manifest.Counter, parent.Manifest.Version, command.Id, mode, now);
            ServedModel opened;
            try
            {
                // The exported head outputs the device's classes (set-config may have replaced the package's).
                opened = _deployer.InstallLocal(parent, replaced, [PackageFileRoles.BackboneFloat16, PackageFileRoles.Weights], version, origin, check.Classes);
            }
            catch (IOException e) when (DiskSpace.IsFull(e))
            {
                throw new AgentException(AgentErrorCode.StorageFull, "The device-made version could not be written: the disk is full. The served model stays.", e);
            }
            // Its own head (exported beside the backbone) serves: no device head was trained on this backbone yet.
            Server.Replace(opened, LoadServingHead(opened.Installed.Manifest));
            ResetDriftReference();
            PublishState();
            return opened.Installed;
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Preprocessed images [Count × 3·S·S] of the labelled samples of the device's classes, as the served model's manifest prepares them.</summary>
    private LabelledFeatures LabelledPixelsOf(IReadOnlyList<SampleRecord> samples, InputSpec input)
    {
        var classes = Classes ?? throw new AgentException(AgentErrorCode.NoModel, "No model is deployed yet: send 'deploy' first.");
        var usable = samples.Where(s => s.Label is not null && classes.Contains(s.Label)).ToList();
        if (usable.Count < 2)
            throw new AgentException(AgentErrorCode.NotEnoughData, "A backbone fine-tune needs at least 2 labelled samples of the device's classes.");
        var pixels = PixelsOf(usable, input);
        int length = pixels.Length / usable.Count;
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        return new LabelledFeatures(pixels, [.. usable.Select(s => index[s.Label!])], length, classes, [.. usable.Select(s => s.Id)]);
    }
}
