namespace EdgeTL.Agent;

/// <summary>What went wrong in the agent (the <see cref="AgentException.Code"/>).</summary>
public enum AgentErrorCode
{
    /// <summary>A setting is missing or out of range.</summary>
    InvalidConfiguration,
    /// <summary>A package could not be fetched (missing file, HTTP error, too large, interrupted beyond resume).</summary>
    FetchFailed,
    /// <summary>A package failed verification (signature, hashes, counter, archive rules); nothing changed.</summary>
    PackageRejected,
    /// <summary>A new model failed its health gate (golden outputs or latency budget) and was rolled back.</summary>
    HealthGateFailed,
    /// <summary>No model is deployed yet.</summary>
    NoModel,
    /// <summary>There is not enough disk space for the store, a package or a job.</summary>
    StorageFull,
    /// <summary>Training needs libtorch, which this build or device does not have.</summary>
    TrainingUnavailable,
    /// <summary>The device is too hot or too busy to train now.</summary>
    ResourcesUnavailable,
    /// <summary>A job is already running.</summary>
    Busy,
    /// <summary>The data a command needs is not there (too few labelled samples, unknown sample).</summary>
    NotEnoughData,
    /// <summary>A hardware read failed (camera, sensor).</summary>
    DeviceUnavailable,
    /// <summary>A rollback found no earlier model or head to return to.</summary>
    NothingToRollBack,
    /// <summary>A backbone trained on the device did not survive its ONNX export (the export differs from the module); nothing changed.</summary>
    ExportMismatch,
    /// <summary>What serves changed (a rollback) while a job trained a candidate for it: the candidate was not judged against what serves now, nor promoted.</summary>
    ModelChanged,
}
