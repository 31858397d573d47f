using EdgeTL.Protocol.Payloads;

namespace EdgeTL.Cloud;

/// <summary>One device's retained <c>…/state</c>, flattened for a table.</summary>
/// <param name="Device">Device id.</param>
/// <param name="State">online, offline (the last will), …</param>
/// <param name="Model">Model name, when one is served.</param>
/// <param name="Version">Model version.</param>
/// <param name="Counter">Model counter.</param>
/// <param name="Head">Serving head (id, kind, accuracy), when one is trained.</param>
/// <param name="Training">available / unavailable.</param>
/// <param name="LastDeployment">Status of the last deployment (Promoted, RolledBack, Rejected, Failed).</param>
/// <param name="LastDeploymentReason">Its reason.</param>
/// <param name="LastDeploymentCommand">The command (or <c>desired-{counter}</c>) that started it.</param>
/// <param name="LastDeploymentAt">When it ended.</param>
internal sealed record DeviceStatus(string Device, string State, string? Model, string? Version, long? Counter, string? Head, string? Training,
    string? LastDeployment, string? LastDeploymentReason, string? LastDeploymentCommand, string? LastDeploymentAt)
{
    /// <summary>Flattens a device's retained state.</summary>
    public static DeviceStatus From(string device, DeviceState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        string? head = state.Head is { } h ? $"{h.Id} {h.Kind} {h.Accuracy.ToString("P1", System.Globalization.CultureInfo.InvariantCulture)}" : null;
        var last = state.LastDeployment;
        return new DeviceStatus(device, state.State, state.Model?.Name, state.Model?.Version, state.Model?.Counter, head, state.Training,
            last?.Status, last?.Reason, last?.Command, last?.At.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
    }
}
