using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace EdgeTL.Cloud;

/// <summary>
/// Decides, from the messages devices publish, what each awaited device did with one counter:
/// <c>…/metrics/deployment</c> (<c>data.counter</c> = the counter) and the retained <c>…/state</c>
/// (<c>lastDeployment.command</c> = <c>desired-{counter}</c>, which also carries refusals whose
/// package was never trusted enough to read its counter, or <c>model.counter</c> already there).
/// </summary>
internal sealed class DeploymentWatch(string fleet, long counter, IEnumerable<string> devices)
{
    private readonly HashSet<string> _awaited = new(devices, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DeviceOutcome> _outcomes = new(StringComparer.Ordinal);

    /// <summary>Raised when a device's outcome is first known.</summary>
    public event Action<DeviceOutcome>? Decided;

    /// <summary>Outcomes known so far.</summary>
    public IReadOnlyDictionary<string, DeviceOutcome> Outcomes => _outcomes;

    /// <summary>True once every awaited device has an outcome.</summary>
    public bool Complete => _awaited.All(_outcomes.ContainsKey);

    /// <summary>Reads one message; ignores what does not concern the counter or the awaited devices.</summary>
    public void Observe(string topic, ReadOnlySpan<byte> payload)
    {
        if (!FleetTopics.TryParseDeviceTopic(topic, fleet, out string device, out string rest) || !_awaited.Contains(device) || _outcomes.ContainsKey(device))
            return;
        JsonObject? json;
        try
        {
            json = JsonNode.Parse(payload) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return;
        }
        if (json is null)
            return;
        DeviceOutcome? outcome = rest switch
        {
            "metrics/deployment" => FromMetric(device, json),
            "state" => FromState(device, json),
            _ => null,
        };
        if (outcome is not null && _outcomes.TryAdd(device, outcome))
            Decided?.Invoke(outcome);
    }

    private DeviceOutcome? FromMetric(string device, JsonObject metric)
    {
        if (metric["data"] is not JsonObject data || Long(data["counter"]) != counter)
            return null;
        string status = Text(data["status"]) ?? "Failed";
        return new DeviceOutcome(device, status, Text(data["reason"]), Text(data["version"]), Long(data["counter"]));
    }

    private DeviceOutcome? FromState(string device, JsonObject state)
    {
        var model = state["model"] as JsonObject;
        long? running = Long(model?["counter"]);
        string? version = Text(model?["version"]);
        if (state["lastDeployment"] is JsonObject last && Text(last["command"]) == $"desired-{counter}")
            return new DeviceOutcome(device, Text(last["status"]) ?? "Failed", Text(last["reason"]), version, running);
        if (running == counter)
            return new DeviceOutcome(device, "Promoted", "already serving it", version, running);
        if (running > counter)
            return new DeviceOutcome(device, "Newer", $"serves counter {running}, above {counter}", version, running);
        return null;
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static long? Long(JsonNode? node) => node is JsonValue v && v.TryGetValue<long>(out var l) ? l : null;
}
