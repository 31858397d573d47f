namespace EdgeTL.Protocol.Payloads;

/// <summary>The metric kinds a device publishes on <c>…/metrics/{kind}</c>, and the record each one's <c>data</c> is.</summary>
public static class MetricKinds
{
    /// <summary>Heartbeat: <see cref="SystemHealth"/>.</summary>
    public const string System = "system";
    /// <summary>Progress of a running training job: <see cref="TrainingProgress"/>.</summary>
    public const string Training = "training";
    /// <summary>A finished fine-tune: <see cref="TrainingReport"/>.</summary>
    public const string TrainingOutcome = "training-outcome";
    /// <summary>The first head of a deployment: <see cref="ColdStartReport"/>.</summary>
    public const string ColdStart = "coldstart";
    /// <summary>A finished adaptation: <see cref="AdaptationReport"/>.</summary>
    public const string Adaptation = "adaptation";
    /// <summary>A finished deployment: <see cref="DeploymentReport"/>.</summary>
    public const string Deployment = "deployment";
    /// <summary>An evaluation: <see cref="EvaluationReport"/>.</summary>
    public const string Evaluation = "evaluation";
    /// <summary>A prediction of an ingested sample: <see cref="PredictionEvent"/>.</summary>
    public const string Prediction = "prediction";
    /// <summary>A drift test: <see cref="DriftEvent"/>.</summary>
    public const string Drift = "drift";
    /// <summary>A training job deferred by the resource gate: <see cref="DeferredReport"/>.</summary>
    public const string Deferred = "deferred";
    /// <summary>Something the device did or refused by itself: <see cref="AgentEvent"/>.</summary>
    public const string Event = "event";

    /// <summary>The <c>data</c> record of each kind.</summary>
    public static IReadOnlyDictionary<string, Type> DataTypes { get; } = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        [System] = typeof(SystemHealth),
        [Training] = typeof(TrainingProgress),
        [TrainingOutcome] = typeof(TrainingReport),
        [ColdStart] = typeof(ColdStartReport),
        [Adaptation] = typeof(AdaptationReport),
        [Deployment] = typeof(DeploymentReport),
        [Evaluation] = typeof(EvaluationReport),
        [Prediction] = typeof(PredictionEvent),
        [Drift] = typeof(DriftEvent),
        [Deferred] = typeof(DeferredReport),
        [Event] = typeof(AgentEvent),
    };
}
