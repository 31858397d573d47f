using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime.Statistics;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent.Services;

/// <summary>
/// The drift windows: features of served (unlabelled) samples fill a window; a full window is tested
/// against the features the serving head was trained on (MMD permutation test + PSI of predicted
/// classes). A drift event is published and, when the policy and the training gate allow,
/// <see cref="AdaptationWanted"/> is raised; a closed gate defers it until the gate opens.
/// </summary>
public sealed class DriftMonitor
{
    private readonly Lock _gate = new();
    private readonly List<float> _window = [];
    private readonly List<int> _windowClasses = [];
    private readonly ModelServing _serving;
    private readonly AgentStore _store;
    private readonly SettingsService _settings;
    private readonly SampleFeatures _samples;
    private readonly TrainingGateService _training;
    private readonly JobService _jobs;
    private readonly MetricsPublisher _metrics;
    private readonly ILogger _logger;
    private DriftDetector? _drift;
    private int _adaptationDeferred;

    /// <summary>Creates the monitor.</summary>
    public DriftMonitor(ModelServing serving, AgentStore store, SettingsService settings, SampleFeatures samples, TrainingGateService training, JobService jobs,
        MetricsPublisher metrics, ILogger<DriftMonitor> logger)
    {
        _serving = serving;
        _store = store;
        _settings = settings;
        _samples = samples;
        _training = training;
        _jobs = jobs;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Raised when drift calls for the policy's adaptation and nothing stands in its way.</summary>
    public event Action? AdaptationWanted;

    /// <summary>The last drift report, or null.</summary>
    public DriftReport? LastDrift { get; private set; }

    /// <summary>Sets the drift reference to <paramref name="reference"/>, or to the labelled samples' features (after a deploy or a new head).</summary>
    public void Reset(float[]? reference = null)
    {
        lock (_gate)
        {
            _window.Clear();
            _windowClasses.Clear();
            _drift = null;
        }
        if (_serving.Server.Model is not { } model)
            return;
        try
        {
            if (reference is null)
            {
                var labelled = _store.Samples.Labelled().TakeLast(500).ToList();
                if (labelled.Count < 10)
                    return;
                reference = _samples.ExtractInBatches([.. labelled.Select(s => s.Image)], CancellationToken.None);
            }
            var policy = _settings.Current.Drift;
            var detector = new DriftDetector(model.Features.FeatureDim, new DriftOptions { WindowSize = policy.WindowSize, Alpha = policy.Alpha, Seed = 7 });
            detector.SetReference(reference);
            lock (_gate)
                _drift = detector;
        }
        catch (AgentException)
        {
        }
    }

    /// <summary>The training gate opened: an adaptation deferred by it is wanted now.</summary>
    public void OnGateOpened()
    {
        if (Interlocked.Exchange(ref _adaptationDeferred, 0) == 1)
            AdaptationWanted?.Invoke();
    }

    /// <summary>Adds one served sample's features and predicted class; a full window is tested.</summary>
    public void Observe(float[] features, int predictedClass)
    {
        var policy = _settings.Current.Drift;
        if (!policy.Enabled)
            return;
        float[] window;
        DriftDetector drift;
        lock (_gate)
        {
            if (_drift is null)
                return;
            drift = _drift;
            _window.AddRange(features);
            _windowClasses.Add(predictedClass);
            if (_windowClasses.Count < policy.WindowSize)
                return;
            window = [.. _window];
            _window.Clear();
            _windowClasses.Clear();
        }
        var report = drift.Check(window);
        LastDrift = report;
        var data = new DriftEvent(report.Drift, [.. report.Reasons], report.Mmd2, report.PValue, report.MeanShift, report.AdaptiveWeight, report.WindowSize);
        if (!report.Drift)
        {
            _metrics.Publish(MetricKinds.Drift, data, ProtocolJson.Default.DriftEvent);
            return;
        }
        _logger.DriftDetected(string.Join(", ", report.Reasons));
        var gate = _training.Read();
        string? blocked = !policy.AutoAdapt ? "automatic adaptation is off"
            : gate.State != GateState.Available ? gate.Reason
            : _jobs.Current is { } job ? $"job {job.Id} is running" : null;
        _metrics.Publish(MetricKinds.Drift, data with { Action = blocked is null ? "adapting" : $"not adapting: {blocked}" }, ProtocolJson.Default.DriftEvent, droppable: false);
        if (gate.State == GateState.Deferred && policy.AutoAdapt)
        {
            // Adapt when the gate opens, and say so once.
            if (Interlocked.Exchange(ref _adaptationDeferred, 1) == 0)
                _training.ReportAutomaticDeferral("auto-drift", CommandNames.Adapt, gate.Reason!);
            return;
        }
        if (blocked is null)
            AdaptationWanted?.Invoke();
    }
}
