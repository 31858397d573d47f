using System.Globalization;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Serving;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer;
using EdgeTL.Trainer.Interop.Onnx.Quantization;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Packaging;
using EdgeTL.Trainer.Training;
using static TorchSharp.torch;

namespace EdgeTL.Agent.Services;

/// <summary>
/// Changes to what is served, each followed by a new drift reference and the retained state: a
/// promoted head saved and served, a tuned backbone exported, checked and installed as a device-made
/// version, and a deployed or rolled-back model served.
/// </summary>
public sealed class ServingUpdates
{
    /// <summary>Images checked module-against-ONNX after export.</summary>
    public const int ExportCheckImages = 8;

    /// <summary>Most recent samples a device-made backbone's int8 variant is calibrated on.</summary>
    public const int CalibrationSamples = 64;

    private readonly AgentOptions _options;
    private readonly AgentStore _store;
    private readonly ModelServing _serving;
    private readonly DriftMonitor _drift;
    private readonly StatePublisher _state;
    private readonly TimeProvider _time;

    /// <summary>Creates the updater.</summary>
    public ServingUpdates(AgentOptions options, AgentStore store, ModelServing serving, DriftMonitor drift, StatePublisher state, TimeProvider time)
    {
        _options = options;
        _store = store;
        _serving = serving;
        _drift = drift;
        _state = state;
        _time = time;
    }

    /// <summary>
    /// Serves <paramref name="served"/> with its recorded device head (or none), int8 where its gate lets it (<see cref="ModelServing.Serve"/>);
    /// resets the drift reference when something serves. Returns the int8 choice, for a model with an int8 backbone.
    /// </summary>
    public PrecisionChoice? Serve(ServedModel? served)
    {
        var choice = _serving.Serve(served);
        if (served is not null)
            _drift.Reset();
        return choice;
    }

    /// <summary>Which model and device head serve now: a job reads it when it begins, and promotes through <see cref="WhileUnchanged{T}"/>.</summary>
    public ServingIdentity Identity() => _serving.Server.Identity;

    /// <summary>
    /// Runs <paramref name="judgeAndServe"/> (the guard's decision and the swap it allows) alone among changes of what serves
    /// (<see cref="ModelServing.Exclusively{T}"/>), and only while what serves is still <paramref name="begunOn"/>. Otherwise a
    /// rollback came during the job: its candidate was trained for, and would be judged against, a model or head that no longer
    /// serves, so nothing changes, <paramref name="candidate"/> (when given) is disposed, and the job fails with
    /// <see cref="AgentErrorCode.ModelChanged"/>.
    /// </summary>
    public T WhileUnchanged<T>(ServingIdentity begunOn, string job, Func<T> judgeAndServe, IDisposable? candidate = null)
    {
        ArgumentNullException.ThrowIfNull(judgeAndServe);
        return _serving.Exclusively(() =>
        {
            try
            {
                RequireUnchanged(begunOn, job);
            }
            catch (AgentException)
            {
                candidate?.Dispose();
                throw;
            }
            return judgeAndServe();
        });
    }

    /// <summary>
    /// <paramref name="progress"/>, stopping the training at the next epoch (<see cref="AgentErrorCode.ModelChanged"/>) once what serves
    /// is no longer <paramref name="begunOn"/>: its candidate could not be promoted, so the device need not finish it.
    /// </summary>
    public IProgress<EpochMetrics> StopWhenChanged(IProgress<EpochMetrics> progress, ServingIdentity begunOn, string job) =>
        new ChangeWatch(this, progress, begunOn, job);

    private void RequireUnchanged(ServingIdentity begunOn, string job)
    {
        var now = Identity();
        if (now != begunOn)
            throw new AgentException(AgentErrorCode.ModelChanged,
                $"What serves changed while {job} ran ({begunOn} when it began, {now} now: a rollback); its candidate was not judged or promoted. Send it again.");
    }

    /// <summary>Writes a trained head, records it, and serves it (inside <see cref="WhileUnchanged{T}"/>).</summary>
    public HeadRecord PromoteHead(nn.Module<Tensor, Tensor> module, string kind, int bottleneck, IReadOnlyList<string> classes, string origin, double accuracy,
        long trainedThrough, bool holdoutExcluded, float[]? driftReference = null)
    {
        var server = _serving.Server;
        var record = new HeadRecord
        {
            Kind = kind,
            PackageCounter = server.Counter,
            ModelVersion = ModelServing.HeadKey(server.Model!.Installed.Manifest),
            FeatureDim = server.Model!.Features.FeatureDim,
            BottleneckDim = bottleneck,
            Labels = [.. classes],
            Origin = origin,
            Accuracy = accuracy,
            TrainedThroughSampleId = trainedThrough,
            HoldoutExcluded = holdoutExcluded,
            Status = "candidate",
            CreatedTicks = _time.GetUtcNow().UtcTicks,
        };
        record.Id = _store.Heads.Add(record);
        record.Path = Path.Combine(_options.DataDirectory, "heads", $"head-{record.Id}.bin");
        var classifier = new HeadClassifier(module, record);
        try
        {
            classifier.Save();
        }
        catch (Exception e) when (DiskSpace.IsFull(e))
        {
            classifier.Dispose();
            _store.Heads.Reject(record.Id);
            throw new AgentException(AgentErrorCode.StorageFull, "The new head could not be saved: the disk is full. The serving head stays.", e);
        }
        _store.Heads.Update(record);
        _store.Heads.Promote(record.Id);
        record.Status = "serving";
        server.ReplaceHead(classifier);
        _drift.Reset(driftReference);
        _state.Publish();
        return record;
    }

    /// <summary>
    /// Exports the trained model, checks the export in ONNX Runtime against the module, and installs and
    /// serves it as a device-made version of the served package. Null (nothing changed) when the
    /// export differs by more than <see cref="BackboneTuning.ExportTolerance"/>; <see cref="AgentErrorCode.ModelChanged"/>
    /// (nothing changed) when what serves is no longer <paramref name="begunOn"/>, what the job began on.
    /// </summary>
    /// <remarks>
    /// When the parent carried an int8 backbone, the new backbone is re-quantized on the device (the parent's calibration method and
    /// budget; calibration on up to <see cref="CalibrationSamples"/> recent samples outside the holdout) and goes through the same int8 gate;
    /// <paramref name="precision"/> says which backbone serves and why.
    /// </remarks>
    public InstalledModel? InstallBackbone(CommandEnvelope command, string mode, ServingIdentity begunOn, InstalledModel parent, TransferModel model, LabelledFeatures check,
        out double delta, out PrecisionChoice? precision)
    {
        precision = null;
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(check);
        var input = parent.Manifest.Input;
        string folder = Path.Combine(_options.DataDirectory, ModelServing.ExportsFolder, $"{Guid.NewGuid():N}");
        try
        {
            (string backbone, string head, delta) = BackboneTuning.Export(model, check, input.Size, folder);
            if (!(delta <= BackboneTuning.ExportTolerance))
                return null;
            var replaced = new Dictionary<string, string>(StringComparer.Ordinal) { [PackageFileRoles.Backbone] = backbone, [PackageFileRoles.Head] = head };
            if (parent.Manifest.Golden is { } golden && parent.PathOf(PackageFileRoles.GoldenInputs) is { } goldenInputs && parent.PathOf(PackageFileRoles.GoldenOutputs) is not null)
                replaced[PackageFileRoles.GoldenOutputs] = BackboneTuning.GoldenOutputs(backbone, goldenInputs, golden.Count, input.Size);
            var dropped = new List<string> { PackageFileRoles.BackboneFloat16, PackageFileRoles.Weights, PackageFileRoles.BackboneInt8, PackageFileRoles.GoldenOutputsInt8 };
            Int8Backbone? quantized = null;
            string? requantizeFailure = null;
            if (parent.Manifest.Quantized is { } parentInt8 && replaced.ContainsKey(PackageFileRoles.GoldenOutputs))
            {
                try
                {
                    var (int8Backbone, int8Golden, section) = Requantize(backbone, parent, parentInt8, Path.Combine(folder, "int8"));
                    replaced[PackageFileRoles.BackboneInt8] = int8Backbone;
                    replaced[PackageFileRoles.GoldenOutputsInt8] = int8Golden;
                    dropped.RemoveAll(role => role is PackageFileRoles.BackboneInt8 or PackageFileRoles.GoldenOutputsInt8);
                    quantized = section;
                }
                catch (Exception e) when (e is EdgeTrainerException or Runtime.EdgeRuntimeException or AgentException)
                {
                    requantizeFailure = e.Message;
                }
            }
            var now = _time.GetUtcNow();
            string version = string.Create(CultureInfo.InvariantCulture, $"{parent.Manifest.Version.Split('+')[0]}+device.{now:yyyyMMddHHmmss}");
            (var installed, precision) = WhileUnchanged(begunOn, $"the {mode} fine-tune", () =>
            {
                // What it may have trained on: every sample stored so far (the fine-tune's rows, the head it carries), and holdout rows
                // only through a head that was not kept off the holdout (a cold-start head), its own or an ancestor's.
                var servingHead = _serving.Server.Head?.Record;
                bool holdoutSeen = servingHead is not null ? !servingHead.HoldoutExcluded : parent.Manifest.DeviceMade is { } parentOrigin && parentOrigin.HoldoutSeen != false;
                var origin = new DeviceOrigin(parent.Manifest.Counter, parent.Manifest.Version, command.Id, mode, now, _store.Samples.NewestId(), holdoutSeen);
                ServedModel opened;
                try
                {
                    // The exported head outputs the device's classes (set-config may have replaced the package's).
                    opened = _serving.Deployer.InstallLocal(parent, replaced, dropped, version, origin, check.Classes, quantized);
                }
                catch (IOException e) when (DiskSpace.IsFull(e))
                {
                    throw new AgentException(AgentErrorCode.StorageFull, "The device-made version could not be written: the disk is full. The served model stays.", e);
                }
                // Its own head (exported beside the backbone) serves: no device head was trained on this backbone yet.
                return (opened.Installed, Serve(opened));
            });
            if (requantizeFailure is not null)
            {
                precision = new PrecisionChoice(PrecisionChoice.FullPrecision, $"fp32 serves: the device-made backbone could not be re-quantized: {requantizeFailure}",
                    BudgetPoints: parent.Manifest.Quantized!.AccuracyBudgetPoints);
            }
            _state.Publish();
            return installed;
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The device-made backbone at <paramref name="backbone"/> quantized as its parent's was, calibrated on the device's own recent samples.</summary>
    private (string Backbone, string Golden, Int8Backbone Section) Requantize(string backbone, InstalledModel parent, Int8Backbone parentInt8, string folder)
    {
        var input = parent.Manifest.Input;
        var recent = _store.Samples.Latest(4 * CalibrationSamples).Where(s => !HoldoutSplit.IsHoldout(s.Id)).ToList();
        if (recent.Count == 0)
            throw new AgentException(AgentErrorCode.NotEnoughData, "there are no samples outside the holdout to calibrate on");
        var picked = recent.Count <= CalibrationSamples ? recent : [.. Enumerable.Range(0, CalibrationSamples).Select(i => recent[i * recent.Count / CalibrationSamples])];
        float[] pixels = SampleFeatures.PixelsOf(picked, input);
        int length = pixels.Length / picked.Count;
        var batches = Enumerable.Range(0, (picked.Count + 15) / 16).Select(b =>
        {
            int n = Math.Min(16, picked.Count - (b * 16));
            return (pixels.AsSpan(b * 16 * length, n * length).ToArray(), new[] { n, input.Channels, input.Size, input.Size });
        }).ToList();
        var method = Enum.Parse<CalibrationMethod>(parentInt8.Method, ignoreCase: true);
        var quantized = OnnxQuantizer.Quantize(File.ReadAllBytes(backbone), batches, new QuantizationOptions { Method = method });
        float[] goldenInputs = Runtime.Features.GoldenCheck.ReadFloats(parent.PathOf(PackageFileRoles.GoldenInputs)!);
        return Int8Packaging.Write(quantized, method, $"{picked.Count} device samples", goldenInputs, parent.Manifest.Golden!.Count, folder, parentInt8.AccuracyBudgetPoints);
    }

    private sealed class ChangeWatch(ServingUpdates updates, IProgress<EpochMetrics> inner, ServingIdentity begunOn, string job) : IProgress<EpochMetrics>
    {
        public void Report(EpochMetrics value)
        {
            inner.Report(value);
            updates.RequireUnchanged(begunOn, job);
        }
    }
}
