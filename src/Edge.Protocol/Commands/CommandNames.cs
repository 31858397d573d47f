namespace EdgeTL.Protocol.Commands;

/// <summary>The commands a device understands (protocol version 1), and which of them are jobs.</summary>
public static class CommandNames
{
    /// <summary>Protocol version carried by results.</summary>
    public const int ProtocolVersion = 1;

    /// <summary>What is served, trained, queued; the gate; drift. Args: none.</summary>
    public const string Status = "status";
    /// <summary>Fetch, verify, install and health-check a signed package (a job). Args: <see cref="DeployArgs"/>.</summary>
    public const string Deploy = "deploy";
    /// <summary>Return to the previous model or head. Args: <see cref="RollbackArgs"/>.</summary>
    public const string Rollback = "rollback";
    /// <summary>Store a sample (and predict it when unlabelled). Args: <see cref="IngestArgs"/>.</summary>
    public const string Ingest = "ingest";
    /// <summary>Label a stored sample. Args: <see cref="LabelArgs"/>.</summary>
    public const string Label = "label";
    /// <summary>Train a head on the labelled samples, guarded (a job). Args: <see cref="FinetuneArgs"/>.</summary>
    public const string Finetune = "finetune";
    /// <summary>Domain adaptation to a target domain, guarded (a job). Args: <see cref="AdaptArgs"/>.</summary>
    public const string Adapt = "adapt";
    /// <summary>Accuracy of what is served on the labelled samples. Args: <see cref="EvaluateArgs"/>.</summary>
    public const string Evaluate = "evaluate";
    /// <summary>Predict one image without storing it. Args: <see cref="PredictArgs"/>.</summary>
    public const string Predict = "predict";
    /// <summary>Change run-time settings (persisted). Args: <see cref="SetConfigArgs"/>.</summary>
    public const string SetConfig = "set-config";
    /// <summary>Cancel the running job. Args: <see cref="CancelArgs"/>.</summary>
    public const string Cancel = "cancel";

    /// <summary>Every known command name.</summary>
    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        Status, Deploy, Rollback, Ingest, Label, Finetune, Adapt, Evaluate, Predict, SetConfig, Cancel,
    };

    /// <summary>The commands that run as a job: answered <c>accepted</c>, then a final result on the same topic. One job runs at a time.</summary>
    public static IReadOnlySet<string> Jobs { get; } = new HashSet<string>(StringComparer.Ordinal) { Deploy, Finetune, Adapt };

    /// <summary>The argument record type of each command.</summary>
    public static IReadOnlyDictionary<string, Type> ArgumentTypes { get; } = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        [Status] = typeof(StatusArgs),
        [Deploy] = typeof(DeployArgs),
        [Rollback] = typeof(RollbackArgs),
        [Ingest] = typeof(IngestArgs),
        [Label] = typeof(LabelArgs),
        [Finetune] = typeof(FinetuneArgs),
        [Adapt] = typeof(AdaptArgs),
        [Evaluate] = typeof(EvaluateArgs),
        [Predict] = typeof(PredictArgs),
        [SetConfig] = typeof(SetConfigArgs),
        [Cancel] = typeof(CancelArgs),
    };
}
