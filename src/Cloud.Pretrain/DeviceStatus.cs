using System.Text.Json.Nodes;

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
    /// <summary>Reads a state payload; fields the device left out stay null.</summary>
    public static DeviceStatus From(string device, JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var model = state["model"] as JsonObject;
        var head = state["head"] as JsonObject;
        var last = state["lastDeployment"] as JsonObject;
        string? headText = head is null ? null
            : string.Join(" ", new[] { Text(head["id"]), Text(head["kind"]), head["accuracy"] is JsonValue a && a.TryGetValue<double>(out var acc) ? acc.ToString("P1", System.Globalization.CultureInfo.InvariantCulture) : null }.OfType<string>());
        return new DeviceStatus(device, Text(state["state"]) ?? "unknown", Text(model?["name"]), Text(model?["version"]),
            model?["counter"] is JsonValue c && c.TryGetValue<long>(out var counter) ? counter : null,
            headText, Text(state["training"]), Text(last?["status"]), Text(last?["reason"]), Text(last?["command"]), Text(last?["at"]));
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString();
}
