using System.Text.Json;
using EdgeTL.Agent.Deployment;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Serving;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime.Packaging;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent.Services;

/// <summary>
/// What the device serves and where it came from: the model store and deployer, the served model
/// and head (<see cref="ModelServer"/>), the device's classes, and the last deployment (kept in the
/// store, so a restart still knows it).
/// </summary>
public sealed class ModelServing
{
    /// <summary>Where backbone exports wait for their check and install (under the data directory; emptied at start).</summary>
    public const string ExportsFolder = "exports";

    private const string LastDeploymentSetting = "lastDeployment";
    private const int Int8RecentSamples = 256;
    private readonly AgentStore _store;
    private readonly SettingsService _settings;
    private readonly Int8Gate _int8;
    private readonly Lock _changes = new();
    private DeploymentRef? _lastDeployment;
    private PrecisionChoice? _precision;

    /// <summary>Opens the model store under the data directory (nothing is loaded until <see cref="OpenCurrent"/>).</summary>
    public ModelServing(AgentOptions options, AgentStore store, ModelServer server, SettingsService settings, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        _store = store;
        _settings = settings;
        Server = server;
        Directory.CreateDirectory(options.TrustedKeysDirectory);
        var models = new ModelStore(Path.Combine(options.DataDirectory, "models"), TrustedKeys.FromDirectory(options.TrustedKeysDirectory), keepVersions: options.KeepVersions);
        var fetcher = new PackageFetcher(Path.Combine(options.DataDirectory, "downloads"));
        var gate = new HealthGate(new HealthGateOptions { LatencyBudget = TimeSpan.FromMilliseconds(options.HealthLatencyBudgetMs) }, time);
        Deployer = new Deployer(models, fetcher, gate, loggers.CreateLogger<Deployer>(), options.Sessions(), time);
        _int8 = new Int8Gate(gate, options.MinHoldout, options.Sessions(), loggers.CreateLogger<Int8Gate>());
        _lastDeployment = LoadLastDeployment();
        // What a backbone fine-tune killed between its export and its install leaves; the served model never depends on it.
        string exports = Path.Combine(options.DataDirectory, ExportsFolder);
        if (Directory.Exists(exports))
            Directory.Delete(exports, recursive: true);
    }

    /// <summary>What is served.</summary>
    public ModelServer Server { get; }

    /// <summary>Installs, checks, promotes and rolls back packages.</summary>
    public Deployer Deployer { get; }

    /// <summary>
    /// Runs <paramref name="change"/> to what serves (a promotion, a device-made install, a rollback, <see cref="Serve"/>) with no
    /// other change in between: a job's check that what it was judged against still serves, and the swap it then makes, see no
    /// rollback between them, and no serving head is disposed while a guard scores with it.
    /// </summary>
    public T Exclusively<T>(Func<T> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_changes)
            return change();
    }

    /// <summary>
    /// <see cref="Exclusively{T}"/> for a command answered on the command loop (<c>rollback</c>): waits at most <paramref name="wait"/> for a
    /// change in progress (a backbone's install and int8 gate can take seconds), so the loop is never held long; false, and nothing run,
    /// when that change did not end in time.
    /// </summary>
    public bool TryExclusively<T>(TimeSpan wait, Func<T> change, out T result)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (!_changes.TryEnter(wait))
        {
            result = default!;
            return false;
        }
        try
        {
            result = change();
            return true;
        }
        finally
        {
            _changes.Exit();
        }
    }

    /// <summary>The last deployment's outcome.</summary>
    public DeploymentRef? LastDeployment => Volatile.Read(ref _lastDeployment);

    /// <summary>When the current package was deployed (cold start measures from here).</summary>
    public DateTimeOffset? DeployedAt { get; set; }

    /// <summary>The device's classes: <c>set-config</c>'s, else the deployed package's labels, else none yet.</summary>
    public IReadOnlyList<string>? Classes => _settings.Current.Classes ?? Server.Model?.Installed.Manifest.Labels;

    /// <summary>Whether a served prediction is possible (a device head, or the package's own).</summary>
    public bool CanPredict => Server.Head is not null || Server.Model?.Predictor is not null;

    /// <summary>For a model with an int8 backbone: which backbone serves and why (null otherwise).</summary>
    public PrecisionChoice? Precision => Volatile.Read(ref _precision);

    /// <summary>The served model as the protocol names it, or null.</summary>
    public ModelRef? ServedModel() =>
        Server.Model is { Installed.Manifest: var m } model ? new ModelRef(m.Name, m.Version, m.Counter, m.Architecture, model.Precision, Precision?.Reason) : null;

    /// <summary>
    /// Serves <paramref name="served"/> (opened fp32, as the deployer opens it) with its recorded device head, or nothing. A model with an
    /// int8 backbone goes through the <see cref="Int8Gate"/> first, on the device's holdout and recent samples; the choice is returned and
    /// kept for the state.
    /// </summary>
    public PrecisionChoice? Serve(Runtime.Features.ServedModel? served) => Exclusively(() => ServeNow(served));

    private PrecisionChoice? ServeNow(Runtime.Features.ServedModel? served)
    {
        var head = served is null ? null : LoadServingHead(served.Installed.Manifest);
        PrecisionChoice? choice = null;
        if (served is not null)
            (served, choice) = _int8.Choose(served, Classifier(served, head), () => Int8Evidence(served.Installed.Manifest));
        Volatile.Write(ref _precision, choice);
        Server.Replace(served, head);
        return choice;
    }

    private static Func<float[], int, string[]>? Classifier(Runtime.Features.ServedModel served, HeadClassifier? head)
    {
        if (head is not null)
            return (features, count) => [.. head.Probabilities(features, count).Select(p => head.Labels[Array.IndexOf(p, p.Max())])];
        if (served.Predictor is { } predictor)
            return (features, count) => [.. predictor.FromFeatures(features, count).Select(p => p.Label)];
        return null;
    }

    private Int8Evidence Int8Evidence(ModelManifest manifest)
    {
        var classes = _settings.Current.Classes ?? manifest.Labels;
        var holdout = _store.Samples.Labelled().Where(s => HoldoutSplit.IsHoldout(s.Id) && classes.Contains(s.Label!)).Select(s => (s.Image, s.Label!)).ToList();
        return new Int8Evidence(holdout, [.. _store.Samples.Latest(Int8RecentSamples).Select(s => s.Image)]);
    }

    /// <summary>
    /// Rows the int8 gate could measure on now for <paramref name="installed"/>, at least: its golden inputs (where the package carries
    /// them) and the recent images (<see cref="Int8Evidence"/>); a labelled holdout large enough to use is among them.
    /// </summary>
    public int Int8RowsAvailable(InstalledModel installed)
    {
        ArgumentNullException.ThrowIfNull(installed);
        int golden = installed.PathOf(PackageFileRoles.GoldenInputs) is null ? 0 : installed.Manifest.Golden?.Count ?? 0;
        return golden + Math.Min(_store.Samples.Count, Int8RecentSamples);
    }

    /// <summary>The serving device head as the protocol names it, or null.</summary>
    public HeadRef? ServingHead() =>
        Server.Head?.Record is { } h ? new HeadRef(h.Id, h.Kind, h.Accuracy, h.Origin) : null;

    /// <summary>Serves the store's current version (at start); true when there is one.</summary>
    public bool OpenCurrent()
    {
        var served = Deployer.OpenCurrent();
        Serve(served);
        return served is not null;
    }

    /// <summary>The device head serving on <paramref name="model"/> (its package counter and, for a device-made version, its version), or null.</summary>
    public HeadClassifier? LoadServingHead(ModelManifest model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (_store.Heads.Serving(model.Counter, HeadKey(model)) is not { } record || !File.Exists(record.Path) || !Trainer.TorchRuntime.IsAvailable)
            return null;
        return HeadClassifier.Load(record);
    }

    /// <summary>What device heads are recorded under besides the counter: the version of a device-made model, null for a shipped package.</summary>
    public static string? HeadKey(ModelManifest model) => model?.DeviceMade is null ? null : model.Version;

    /// <summary>Records the last deployment (in memory and in the store).</summary>
    public void RecordLastDeployment(DeploymentRef deployment)
    {
        Volatile.Write(ref _lastDeployment, deployment);
        try
        {
            _store.Settings.Upsert(new SettingRecord { Id = LastDeploymentSetting, Json = JsonSerializer.Serialize(deployment, ProtocolJson.Default.DeploymentRef) });
        }
        catch (Exception e) when (DiskSpace.IsFull(e))
        {
            // Still in memory and in the retained state; a restart before space returns forgets it.
        }
    }

    private DeploymentRef? LoadLastDeployment()
    {
        if (_store.Settings.FindById(LastDeploymentSetting) is not { } stored)
            return null;
        try
        {
            return JsonSerializer.Deserialize(stored.Json, ProtocolJson.Default.DeploymentRef);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
