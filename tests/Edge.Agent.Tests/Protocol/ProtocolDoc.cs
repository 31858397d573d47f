using System.Globalization;
using System.Text.RegularExpressions;

namespace EdgeTL.Agent.Tests.Protocol;

/// <summary>
/// The examples of docs/protocol.md: a fenced <c>json</c> block holding an envelope, followed by a line
/// <c>→ status: S</c>, <c>→ status: accepted, then S</c> or <c>→ status: accepted, then S (after ID)</c>
/// (the final result comes once example <c>ID</c> has been answered). Other <c>json</c> blocks (results,
/// state) are illustrations. Placeholders are the shell's: <c>$(date -u +%FT%TZ)</c>,
/// <c>$(date -u -d '-2 days' +%FT%TZ)</c>, <c>$(base64 -w0 coat.png)</c>, <c>$PWD</c>.
/// </summary>
internal static partial class ProtocolDoc
{
    /// <summary>One example: where it is, the envelope as written, and what the device answers.</summary>
    public sealed record Example(int Line, string Envelope, string First, string? Final, string? FinalAfter);

    public static string Path => System.IO.Path.Combine(Hosting.OptionKeys.RepoRoot(), "docs", "protocol.md");

    /// <summary>Every fenced json block (line, text) and the examples among them, in document order.</summary>
    public static (IReadOnlyList<(int Line, string Json)> Blocks, IReadOnlyList<Example> Examples) Read(string markdown)
    {
        var lines = markdown.ReplaceLineEndings("\n").Split('\n');
        var blocks = new List<(int, string)>();
        var examples = new List<Example>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "```json")
                continue;
            int start = i + 1;
            int end = start;
            while (end < lines.Length && lines[end].Trim() != "```")
                end++;
            string json = string.Join("\n", lines[start..end]);
            blocks.Add((start, json));
            i = end;
            int next = end + 1;
            while (next < lines.Length && lines[next].Trim().Length == 0)
                next++;
            if (next >= lines.Length || !lines[next].StartsWith("→ status:", StringComparison.Ordinal))
                continue;
            var match = StatusLine().Match(lines[next]);
            if (!match.Success)
                throw new FormatException($"docs/protocol.md:{next + 1}: '{lines[next]}' is not '→ status: S', '→ status: accepted, then S' or '→ status: accepted, then S (after ID)'.");
            examples.Add(new Example(start, json, match.Groups[1].Value, match.Groups[2].Success ? match.Groups[2].Value : null,
                match.Groups[3].Success ? match.Groups[3].Value : null));
        }
        return (blocks, examples);
    }

    /// <summary>Replaces the shell placeholders: times relative to <paramref name="now"/>, images by file name, <c>$PWD</c>.</summary>
    public static string Substitute(string json, DateTimeOffset now, Func<string, byte[]> image, string pwd)
    {
        string result = DateNow().Replace(json, _ => Format(now));
        result = DateOffset().Replace(result, m =>
        {
            double amount = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            var offset = m.Groups[2].Value switch
            {
                "sec" or "second" or "seconds" => TimeSpan.FromSeconds(amount),
                "min" or "minute" or "minutes" => TimeSpan.FromMinutes(amount),
                "hour" or "hours" => TimeSpan.FromHours(amount),
                "day" or "days" => TimeSpan.FromDays(amount),
                var unit => throw new FormatException($"Unknown date unit '{unit}' in {m.Value}."),
            };
            return Format(now + offset);
        });
        result = Base64().Replace(result, m => Convert.ToBase64String(image(m.Groups[1].Value)));
        result = result.Replace("$PWD", pwd, StringComparison.Ordinal);
        if (result.Contains("$(", StringComparison.Ordinal))
            throw new FormatException($"An unknown placeholder is left in: {result}");
        return result;
    }

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^→ status: (\w+)(?:, then (\w+)(?: \(after ([A-Za-z0-9._:-]+)\))?)?\s*$")]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"\$\(date -u \+%FT%TZ\)")]
    private static partial Regex DateNow();

    [GeneratedRegex(@"\$\(date -u -d '([+-]?\d+(?:\.\d+)?) (\w+)' \+%FT%TZ\)")]
    private static partial Regex DateOffset();

    [GeneratedRegex(@"\$\(base64 -w0 ([\w-]+\.png)\)")]
    private static partial Regex Base64();
}
