using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Runtime.Statistics;

namespace EdgeTL.Agent;

/// <summary>
/// The drift loop: features of served (unlabelled) samples fill a window; a full window is tested
/// against the features the serving head was trained on (MMD permutation test + PSI of predicted
/// classes). A drift event is published, and, when the policy and the resource gate allow, an
/// adaptation job runs, whose promote-or-rollback outcome is published too.
/// </summary>
public sealed partial class EdgeAgent
{
    private readonly Lock _driftGate = new();
    private readonly List<float> _window = [];
    private readonly List<int> _windowClasses = [];
    private DriftDetector? _drift;

    /// <summary>The last drift report, or null.</summary>
    public DriftReport? LastDrift { get; private set; }

    /// <summary>Sets the drift reference to the labelled source samples' features (after a deploy or a new head).</summary>
    private void ResetDriftReference(float[]? reference = null)
    {
        lock (_driftGate)
        {
            _window.Clear();
            _windowClasses.Clear();
            _drift = null;
        }
        if (Server.Model is null)
            return;
        try
        {
            if (reference is null)
            {
                var labelled = Store.Samples.Labelled().TakeLast(500).ToList();
                if (labelled.Count < 10)
                    return;
                reference = ExtractInBatches([.. labelled.Select(s => s.Image)], CancellationToken.None);
            }
            int dim = Server.Model.Features.FeatureDim;
            var detector = new DriftDetector(dim, new DriftOptions { WindowSize = Settings.Drift.WindowSize, Alpha = Settings.Drift.Alpha, Seed = 7 });
            detector.SetReference(reference);
            lock (_driftGate)
                _drift = detector;
        }
        catch (AgentException)
        {
        }
    }

    private void ObserveForDrift(float[] features, int predictedClass)
    {
        if (!Settings.Drift.Enabled)
            return;
        float[] window;
        lock (_driftGate)
        {
            if (_drift is null)
                return;
            _window.AddRange(features);
            _windowClasses.Add(predictedClass);
            if (_windowClasses.Count < Settings.Drift.WindowSize)
                return;
            window = [.. _window];
            _window.Clear();
            _windowClasses.Clear();
        }
        var report = _drift.Check(window);
        LastDrift = report;
        var data = new DriftEvent(report.Drift, [.. report.Reasons], report.Mmd2, report.PValue, report.MeanShift, report.AdaptiveWeight, report.WindowSize);
        if (!report.Drift)
        {
            Metrics.Publish(MetricKinds.Drift, data, ProtocolJson.Default.DriftEvent);
            return;
        }
        _logger.DriftDetected(string.Join(", ", report.Reasons));
        var gate = ReadGate();
        string? blocked = !Settings.Drift.AutoAdapt ? "automatic adaptation is off"
            : gate.State != GateState.Available ? gate.Reason
            : Jobs.Current is { } job ? $"job {job.Id} is running" : null;
        Metrics.Publish(MetricKinds.Drift, data with { Action = blocked is null ? "adapting" : $"not adapting: {blocked}" }, ProtocolJson.Default.DriftEvent, droppable: false);
        if (gate.State == GateState.Deferred && Settings.Drift.AutoAdapt)
        {
            // Adapt when the gate opens (the gate loop starts it), and say so once.
            if (Interlocked.Exchange(ref _adaptationDeferred, 1) == 0)
                ReportAutomaticDeferral("auto-drift", CommandNames.Adapt, gate.Reason!);
            return;
        }
        if (blocked is not null)
            return;
        StartAutomaticAdaptation();
    }
}
