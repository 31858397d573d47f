namespace EdgeTL.Protocol.Payloads;

/// <summary>The result of <c>deploy</c> (and the <c>deployment</c> metric): what happened to the package.</summary>
/// <param name="Status"><c>Promoted</c>, <c>RolledBack</c>, <c>Rejected</c> or <c>Failed</c>.</param>
/// <param name="Reason">Why, for people.</param>
/// <param name="Version">The package version, when it was read.</param>
/// <param name="Counter">The package counter, when it was read.</param>
/// <param name="Seconds">How long the deployment took.</param>
/// <param name="Code">The error code when it did not promote (<c>PackageRejected</c>, <c>FetchFailed</c>, <c>StorageFull</c>, <c>HealthGateFailed</c>).</param>
/// <param name="Health">The health gate's verdict, when it ran.</param>
/// <param name="Command">The command id (or <c>desired-{counter}</c>) that started it.</param>
/// <param name="Precision">For a package with an int8 backbone: which backbone serves and why.</param>
public sealed record DeploymentReport(string Status, string Reason, string? Version, long? Counter, double Seconds, string? Code = null, HealthCheck? Health = null,
    string? Command = null, PrecisionChoice? Precision = null);
