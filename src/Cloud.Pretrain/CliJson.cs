using System.Text.Json;

namespace EdgeTL.Cloud;

/// <summary>JSON settings of the CLI's machine output.</summary>
internal static class CliJson
{
    public static JsonSerializerOptions Options { get; } = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
}
