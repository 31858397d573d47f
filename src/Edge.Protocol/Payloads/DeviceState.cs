namespace EdgeTL.Protocol.Payloads;

/// <summary>
/// The retained <c>…/state</c>: what the device serves, whether it can train, its last deployment.
/// Republished on every change it describes; the broker's last will sets <see cref="State"/> to <c>offline</c>.
/// </summary>
/// <param name="State"><c>online</c> or <c>offline</c> (the last will).</param>
/// <param name="Model">The served package.</param>
/// <param name="Head">The serving head, if the device trained one.</param>
/// <param name="Training">Whether training may run now (<c>available</c>, <c>deferred</c>, <c>unavailable</c>).</param>
/// <param name="TrainingReason">Why not, when it is not available.</param>
/// <param name="LastDeployment">The last deployment's outcome.</param>
/// <param name="At">When this state was made.</param>
public sealed record DeviceState(string State, ModelRef? Model = null, HeadRef? Head = null, string? Training = null, string? TrainingReason = null,
    DeploymentRef? LastDeployment = null, DateTimeOffset? At = null)
{
    /// <summary>The last will's payload state.</summary>
    public const string Offline = "offline";

    /// <summary>The state of a running agent.</summary>
    public const string Online = "online";
}
