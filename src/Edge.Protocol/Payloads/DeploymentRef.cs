namespace EdgeTL.Protocol.Payloads;

/// <summary>The last deployment's outcome, as the retained state carries it (persisted on the device, so it survives restarts).</summary>
/// <param name="Command">The command id, or <c>desired-{counter}</c> for a group's desired state.</param>
/// <param name="Status"><c>Promoted</c>, <c>RolledBack</c>, <c>Rejected</c> or <c>Failed</c>.</param>
/// <param name="Reason">Why, for people.</param>
/// <param name="Source">The package URL (<c>rollback</c> for a rollback on command).</param>
/// <param name="At">When it ended.</param>
/// <param name="Counter">The package counter, when it was read.</param>
public sealed record DeploymentRef(string Command, string Status, string Reason, string Source, DateTimeOffset At, long? Counter = null);
