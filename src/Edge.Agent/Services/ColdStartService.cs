using System.Diagnostics;
using System.Text.Json;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer.Meta;
using static TorchSharp.torch;

namespace EdgeTL.Agent.Services;

/// <summary>
/// Cold start: once every class of a new deployment has its labelled shots, a first head is fitted
/// (from the package's meta-learned initialization when it has one) and served without comparison,
/// as an automatic job. A closed training gate defers it visibly; it starts when the gate opens.
/// </summary>
public sealed class ColdStartService
{
    private readonly ModelServing _serving;
    private readonly AgentStore _store;
    private readonly SettingsService _settings;
    private readonly TrainingGateService _training;
    private readonly JobService _jobs;
    private readonly SampleFeatures _samples;
    private readonly ServingUpdates _updates;
    private readonly PromotionPolicy _policy;
    private readonly MetricsPublisher _metrics;
    private readonly CommandResults _results;
    private readonly TimeProvider _time;
    private bool _deferred;
    private bool _reported;

    /// <summary>Creates the cold-start service.</summary>
    public ColdStartService(ModelServing serving, AgentStore store, SettingsService settings, TrainingGateService training, JobService jobs, SampleFeatures samples,
        ServingUpdates updates, PromotionPolicy policy, MetricsPublisher metrics, CommandResults results, TimeProvider time)
    {
        _serving = serving;
        _store = store;
        _settings = settings;
        _training = training;
        _jobs = jobs;
        _samples = samples;
        _updates = updates;
        _policy = policy;
        _metrics = metrics;
        _results = results;
        _time = time;
        // The last shot may arrive while an automatic job (the int8 check, a drift adaptation) holds the slot: start when it ends.
        jobs.Released += id =>
        {
            if (CommandResults.IsAutomatic(id))
                MaybeStart();
        };
    }

    /// <summary>The training gate opened: a deferred cold start starts now.</summary>
    public void OnGateOpened()
    {
        _deferred = false;
        MaybeStart();
    }

    /// <summary>A new package was promoted: its first cold start is reported as a metric again.</summary>
    public void OnDeployed() => _reported = false;

    /// <summary>Starts the cold start when a package serves without a device head and every class has its shots.</summary>
    public void MaybeStart()
    {
        var server = _serving.Server;
        long counter = server.Counter;
        // A device-made version carries the head it was tuned with: no cold start on it.
        if (counter == 0 || server.Head is not null || server.Model?.Installed.Manifest.DeviceMade is not null || _jobs.Current is not null || _serving.Classes is not { } classes)
            return;
        var counts = _store.Samples.LabelCounts();
        int shots = _settings.Current.ColdStartShots;
        if (!classes.All(c => counts.GetValueOrDefault(c) >= shots))
            return;
        string id = $"auto-coldstart-{counter}";
        var gate = _training.Read();
        if (gate.State != GateState.Available)
        {
            // Visible, once per wait; it starts when the gate opens.
            if (!_deferred)
            {
                _deferred = true;
                _training.ReportAutomaticDeferral(id, "cold-start", gate.Reason!);
            }
            return;
        }
        _deferred = false;
        var command = new CommandEnvelope(_jobs.AutomaticId(id), CommandNames.Finetune, _time.GetUtcNow());
        _ = _jobs.Start(command, "cold-start", token => Run(command, token));
    }

    private CommandResult Run(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var begunOn = _updates.Identity();   // the features come from what serves now, and the head is for that model only
        var set = _samples.LabelledFeaturesOf(_store.Samples.Labelled(), cancellationToken);
        string method;
        nn.Module<Tensor, Tensor> head;
        if (_serving.Server.Model?.Installed.PathOf(PackageFileRoles.HeadInitialization) is { } initPath && File.Exists(initPath)
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
        var record = _updates.WhileUnchanged(begunOn, "the cold start",
            () => _updates.PromoteHead(head, "head", 0, set.Classes, command.Id, accuracy, set.NewestSampleId, holdoutExcluded: false), candidate: head);
        double? sinceDeploy = _serving.DeployedAt is { } at ? (_time.GetUtcNow() - at).TotalSeconds : null;
        var report = new ColdStartReport(record.Id, method, set.Count, _settings.Current.ColdStartShots, accuracy, clock.Elapsed.TotalSeconds, sinceDeploy, first.N, _policy.ToWire(first));
        _store.Runs.Add("cold-start", command.Id, "promoted", JsonSerializer.Serialize(report, ProtocolJson.Default.ColdStartReport));
        if (!_reported)
        {
            _metrics.Publish(MetricKinds.ColdStart, report, ProtocolJson.Default.ColdStartReport, droppable: false);
            _reported = true;
        }
        return _results.Result(command, CommandStatus.Ok, $"Cold start: serving head {record.Id} ({method}).", report, ProtocolJson.Default.ColdStartReport);
    }
}
