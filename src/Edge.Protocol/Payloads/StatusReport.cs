namespace EdgeTL.Protocol.Payloads;

/// <summary>The result of <c>status</c>: what is served, trained, stored and queued, whether training may run, and the last drift test.</summary>
public sealed record StatusReport(string Device, string Fleet, ModelRef? Model, HeadRef? Head, IReadOnlyList<string>? Classes, long Samples,
    IReadOnlyDictionary<string, int> Labelled, JobRef? Job, OutboxStats Outbox, string Training, string? TrainingReason, DriftSummary? Drift,
    DeploymentRef? LastDeployment);
