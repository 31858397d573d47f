namespace EdgeTL.Cloud;

/// <summary>The cloud's view of the topic tree (shared/ARCHITECTURE.md, "Topics"), built in one place.</summary>
internal static class FleetTopics
{
    private const string Root = "edgetl";

    /// <summary>The retained desired state of a device group.</summary>
    public static string GroupDeploy(string fleet, string group) => $"{Root}/{Level(fleet, nameof(fleet))}/group/{Level(group, nameof(group))}/deploy";

    /// <summary>Every device's retained state.</summary>
    public static string StateFilter(string fleet) => $"{Root}/{Level(fleet, nameof(fleet))}/+/state";

    /// <summary>Every device's metrics of one kind.</summary>
    public static string MetricsFilter(string fleet, string kind) => $"{Root}/{Level(fleet, nameof(fleet))}/+/metrics/{Level(kind, nameof(kind))}";

    /// <summary>Every device's metrics of every kind, as an MQTT 5 shared subscription of <paramref name="shareGroup"/>.</summary>
    public static string SharedMetricsFilter(string fleet, string shareGroup) => $"$share/{Level(shareGroup, nameof(shareGroup))}/{Root}/{Level(fleet, nameof(fleet))}/+/metrics/#";

    /// <summary>Reads <c>edgetl/{fleet}/{device}/{rest…}</c>: the device and what follows it.</summary>
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

    /// <summary>A single topic level: no separators or wildcards.</summary>
    public static string Level(string value, string what)
    {
        if (string.IsNullOrEmpty(value) || value.AsSpan().IndexOfAny("/+#$") >= 0)
            throw CloudCliException.InvalidArguments($"{what} '{value}' must be one topic level (no '/', '+', '#' or '$').");
        return value;
    }
}
