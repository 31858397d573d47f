using EdgeTL.Protocol.Topics;

namespace EdgeTL.Cloud;

/// <summary>The cloud's check of topic levels given on the command line; the topic tree itself is <see cref="DeviceTopics"/>.</summary>
internal static class FleetTopics
{
    /// <summary>A single topic level (no separators or wildcards), or an invalid-arguments error naming <paramref name="what"/>.</summary>
    public static string Level(string value, string what)
    {
        if (!DeviceTopics.IsLevel(value))
            throw CloudCliException.InvalidArguments($"{what} '{value}' must be one topic level (1–128 characters, no '/', '+', '#' or '$').");
        return value;
    }
}
