namespace EdgeTL.Protocol.Topics;

/// <summary>
/// Every MQTT topic of the protocol, built in one place: <c>edgetl/{fleet}/{device}/cmd/{name}</c> in,
/// <c>…/result/{commandId}</c>, <c>…/metrics/{kind}</c> and <c>…/state</c> (retained, last will) out,
/// and <c>edgetl/{fleet}/group/{group}/deploy</c> (retained desired state). An instance holds one
/// device's topics; the static members give the cloud's fleet-wide filters. Fleet, device and group
/// names are single topic levels: 1–128 characters without <c>/ + # $</c> or NUL.
/// </summary>
public sealed class DeviceTopics
{
    /// <summary>The first level of every topic.</summary>
    public const string Root = "edgetl";

    /// <summary>Topics of device <paramref name="device"/> in fleet <paramref name="fleet"/>.</summary>
    public DeviceTopics(string fleet, string device)
    {
        Fleet = Level(fleet, nameof(fleet));
        Device = Level(device, nameof(device));
        if (Device == "group")
            throw new ArgumentException("'group' is reserved for group topics and cannot name a device.", nameof(device));
    }

    /// <summary>The fleet.</summary>
    public string Fleet { get; }

    /// <summary>This device.</summary>
    public string Device { get; }

    /// <summary>Prefix of every topic of this device.</summary>
    public string DevicePrefix => $"{Root}/{Fleet}/{Device}";

    /// <summary>Where command <paramref name="name"/> is sent to this device.</summary>
    public string Command(string name) => $"{DevicePrefix}/cmd/{Level(name, nameof(name))}";

    /// <summary>The subscription for every command of this device, and of no other.</summary>
    public string CommandFilter => $"{DevicePrefix}/cmd/+";

    /// <summary>Where the results of command <paramref name="commandId"/> go.</summary>
    public string Result(string commandId) => $"{DevicePrefix}/result/{Level(commandId, nameof(commandId))}";

    /// <summary>Every result of this device (what a controller subscribes to).</summary>
    public string ResultFilter => $"{DevicePrefix}/result/+";

    /// <summary>Metrics of kind <paramref name="kind"/> (see <see cref="Payloads.MetricKinds"/>).</summary>
    public string Metrics(string kind) => $"{DevicePrefix}/metrics/{Level(kind, nameof(kind))}";

    /// <summary>The retained state topic (also the last will's topic).</summary>
    public string State => $"{DevicePrefix}/state";

    /// <summary>The retained desired state of device group <paramref name="group"/> of this fleet.</summary>
    public string GroupDeploy(string group) => GroupDeploy(Fleet, group);

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

    /// <summary>The retained desired state of device group <paramref name="group"/> in <paramref name="fleet"/>.</summary>
    public static string GroupDeploy(string fleet, string group) => $"{Root}/{Level(fleet, nameof(fleet))}/group/{Level(group, nameof(group))}/deploy";

    /// <summary>Every device's retained state in <paramref name="fleet"/>.</summary>
    public static string StateFilter(string fleet) => $"{Root}/{Level(fleet, nameof(fleet))}/+/state";

    /// <summary>Every device's metrics of <paramref name="kind"/> in <paramref name="fleet"/>.</summary>
    public static string MetricsFilter(string fleet, string kind) => $"{Root}/{Level(fleet, nameof(fleet))}/+/metrics/{Level(kind, nameof(kind))}";

    /// <summary>Every device's metrics of every kind, as an MQTT 5 shared subscription of <paramref name="shareGroup"/>.</summary>
    public static string SharedMetricsFilter(string fleet, string shareGroup) => $"$share/{Level(shareGroup, nameof(shareGroup))}/{Root}/{Level(fleet, nameof(fleet))}/+/metrics/#";

    /// <summary>Reads <c>edgetl/{fleet}/{device}/{rest…}</c>: the device and what follows it (group topics are not device topics).</summary>
    public static bool TryParseDeviceTopic(string topic, string fleet, out string device, out string rest)
    {
        device = rest = "";
        var levels = (topic ?? "").Split('/', 4);
        if (levels.Length < 4 || levels[0] != Root || levels[1] != fleet || levels[2].Length == 0 || levels[2] == "group")
            return false;
        device = levels[2];
        rest = levels[3];
        return true;
    }

    /// <summary>True when <paramref name="value"/> can be one topic level.</summary>
    public static bool IsLevel(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= 128 && value.AsSpan().IndexOfAny("/+#$\0") < 0;

    /// <summary>Returns <paramref name="value"/> when it is one topic level; otherwise throws, naming <paramref name="what"/>.</summary>
    public static string Level(string value, string what)
    {
        if (!IsLevel(value))
            throw new ArgumentException($"'{value}' is not a valid {what}: one MQTT topic level of 1–128 characters without '/', '+', '#', '$'.", what);
        return value;
    }
}
