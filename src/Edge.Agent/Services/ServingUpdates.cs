using System.Globalization;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Serving;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer.Models;
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

    /// <summary>Serves <paramref name="served"/> with its recorded device head (or none); resets the drift reference when something serves.</summary>
    public void Serve(ServedModel? served)
    {
        _serving.Server.Replace(served, served is null ? null : _serving.LoadServingHead(served.Installed.Manifest));
        if (served is not null)
            _drift.Reset();
    }

    /// <summary>Writes a trained head, records it, and serves it.</summary>
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
    /// export differs by more than <see cref="BackboneTuning.ExportTolerance"/>.
    /// </summary>
    public InstalledModel? InstallBackbone(CommandEnvelope command, string mode, InstalledModel parent, TransferModel model, LabelledFeatures check, out double delta)
    {
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
            var now = _time.GetUtcNow();
            string version = string.Create(CultureInfo.InvariantCulture, $"{parent.Manifest.Version.Split('+')[0]}+device.{now:yyyyMMddHHmmss}");
            var origin = new DeviceOrigin(parent.Manifest.Counter, parent.Manifest.Version, command.Id, mode, now);
            ServedModel opened;
            try
            {
                // The exported head outputs the device's classes (set-config may have replaced the package's).
                opened = _serving.Deployer.InstallLocal(parent, replaced, [PackageFileRoles.BackboneFloat16, PackageFileRoles.Weights], version, origin, check.Classes);
            }
            catch (IOException e) when (DiskSpace.IsFull(e))
            {
                throw new AgentException(AgentErrorCode.StorageFull, "The device-made version could not be written: the disk is full. The served model stays.", e);
            }
            // Its own head (exported beside the backbone) serves: no device head was trained on this backbone yet.
            Serve(opened);
            _state.Publish();
            return opened.Installed;
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }
}
