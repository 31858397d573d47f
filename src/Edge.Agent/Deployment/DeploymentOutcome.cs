using EdgeTL.Runtime.Features;

namespace EdgeTL.Agent.Deployment;

/// <summary>The result of <see cref="Deployer.DeployAsync"/> or <see cref="Deployer.RollBack"/>.</summary>
/// <param name="Status">How it ended.</param>
/// <param name="Reason">What happened, in words: the gate's reason on a rollback, the refusal or fetch error otherwise.</param>
/// <param name="Version">Semantic version of the model current in the store afterwards, or null when there is none.</param>
/// <param name="Counter">Counter of the model current in the store afterwards (0 when there is none).</param>
/// <param name="Served">
/// The model to serve from now on, opened for this outcome (the new one when promoted, the previous
/// one when rolled back); null when the serving model did not change or there is none. The caller owns
/// it and disposes the instance it replaces.
/// </param>
/// <param name="Health">The health gate's report, when the gate ran.</param>
/// <param name="Elapsed">Time from the start of the call to the outcome.</param>
public sealed record DeploymentOutcome(
    DeploymentStatus Status,
    string Reason,
    string? Version,
    long Counter,
    ServedModel? Served,
    HealthReport? Health,
    TimeSpan Elapsed)
{
    /// <summary>Why the model did not change, as an error code (<c>FetchFailed</c>, <c>StorageFull</c>, <c>PackageRejected</c>, <c>HealthGateFailed</c>); null when promoted.</summary>
    public AgentErrorCode? Code { get; init; }
}
