namespace EdgeTL.Agent.Messaging;

/// <summary>
/// Every MQTT topic of one device, built in one place (ARCHITECTURE.md, "Topics"):
/// <c>edgetl/{fleet}/{device}/cmd/{name}</c> in, <c>…/result/{commandId}</c>, <c>…/metrics/{kind}</c>,
/// <c>…/state</c> (retained, last will) out, and <c>edgetl/{fleet}/group/{group}/deploy</c> (retained
/// desired state). Fleet, device and group names are single topic levels without wildcards.
/// </summary>
public sealed class AgentTopics
{
    private const string Root = "edgetl";

    /// <summary>Topics of device <paramref name="device"/> in fleet <paramref name="fleet"/>.</summary>
    public AgentTopics(string fleet, string device)
    {
        Fleet = RequireLevel(fleet, nameof(fleet));
        Device = RequireLevel(device, nameof(device));
    }

    /// <summary>The fleet.</summary>
    public string Fleet { get; }

    /// <summary>This device.</summary>
    public string Device { get; }

    /// <summary>Prefix of every topic of this device.</summary>
    public string DevicePrefix => $"{Root}/{Fleet}/{Device}";

    /// <summary>Where command <paramref name="name"/> is sent to this device.</summary>
    public string Command(string name) => $"{DevicePrefix}/cmd/{RequireLevel(name, nameof(name))}";

    /// <summary>The subscription for every command of this device.</summary>
    public string CommandFilter => $"{DevicePrefix}/cmd/+";

    /// <summary>A wider subscription (every device of the fleet), so commands meant for others can be answered as wrong-device instead of vanishing.</summary>
    public string FleetCommandFilter => $"{Root}/{Fleet}/+/cmd/+";

    /// <summary>Where the result of command <paramref name="commandId"/> goes.</summary>
    public string Result(string commandId) => $"{DevicePrefix}/result/{RequireLevel(commandId, nameof(commandId))}";

    /// <summary>Metrics of kind <paramref name="kind"/> (for example <c>training</c>, <c>drift</c>).</summary>
    public string Metrics(string kind) => $"{DevicePrefix}/metrics/{RequireLevel(kind, nameof(kind))}";

    /// <summary>The retained state topic (also the last will's topic).</summary>
    public string State => $"{DevicePrefix}/state";

    /// <summary>The retained desired state of device group <paramref name="group"/>.</summary>
    public string GroupDeploy(string group) => $"{Root}/{Fleet}/group/{RequireLevel(group, nameof(group))}/deploy";

    /// <summary>
    /// Reads a command topic: true with the addressed device and command name when
    /// <paramref name="topic"/> is <c>edgetl/{this fleet}/{device}/cmd/{name}</c>.
    /// </summary>
    public bool TryParseCommand(string topic, out string device, out string name)
    {
        device = name = "";
        var levels = (topic ?? "").Split('/');
        if (levels.Length != 5 || levels[0] != Root || levels[1] != Fleet || levels[3] != "cmd" || levels[2].Length == 0 || levels[4].Length == 0)
            return false;
        device = levels[2];
        name = levels[4];
        return true;
    }

    private static string RequireLevel(string value, string what)
    {
        if (string.IsNullOrEmpty(value) || value.IndexOfAny(['/', '+', '#', '\0']) >= 0 || value.Length > 128)
            throw new ArgumentException($"'{value}' is not a valid {what}: one MQTT topic level of 1–128 characters without '/', '+', '#'.", what);
        return value;
    }
}
