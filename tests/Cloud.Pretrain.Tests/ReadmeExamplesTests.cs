using System.CommandLine;
using System.Text.RegularExpressions;
using EdgeTL.Trainer.Tests;

namespace EdgeTL.Cloud.Tests;

/// <summary>
/// Every <c>edgetl-cloud</c> command the README shows parses as written: each verb exists, each
/// option is known and each required option is given. A README example that names a flag the CLI
/// renamed or dropped fails here. The example files themselves (your photos, your weights) are the
/// reader's; the commands run end to end in the other tests of this project.
/// </summary>
public sealed partial class ReadmeExamplesTests
{
    [Fact]
    public void Every_cloud_command_in_the_readme_parses_with_its_verbs_and_options()
    {
        var commands = CloudCommands(File.ReadAllText(Path.Combine(PeerFixtures.RepoRoot, "README.md")));
        Assert.True(commands.Count >= 20, $"only {commands.Count} edgetl-cloud commands found in the README");
        var failures = new List<string>();
        foreach (var args in commands)
        {
            var parse = CloudCli.Build().Parse(args);
            if (parse.Errors.Count > 0)
                failures.Add($"edgetl-cloud {string.Join(' ', args)}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
        }
        Assert.Empty(failures);
    }

    /// <summary>
    /// The arguments of each README line that runs the cloud CLI (<c>dotnet run --project src/Cloud.Pretrain --</c>,
    /// or <c>$cloud</c> after <c>cloud="…"</c>), with <c>\</c> continuations joined, comments cut, and
    /// <c>[--json]</c> (an optional flag) taken as given.
    /// </summary>
    internal static List<string[]> CloudCommands(string readme)
    {
        var commands = new List<string[]>();
        var joined = ContinuationPattern().Replace(readme, " ");
        foreach (var raw in joined.Split('\n'))
        {
            string line = raw.Trim();
            int hash = line.IndexOf(" #", StringComparison.Ordinal);
            if (hash >= 0)
                line = line[..hash];
            string? rest = line.StartsWith("dotnet run --project src/Cloud.Pretrain -- ", StringComparison.Ordinal) ? line["dotnet run --project src/Cloud.Pretrain -- ".Length..]
                : line.StartsWith("$cloud ", StringComparison.Ordinal) ? line["$cloud ".Length..]
                : null;
            if (rest is null)
                continue;
            rest = rest.Replace("[", "", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal);
            commands.Add(rest.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }
        return commands;
    }

    [GeneratedRegex(@"\\\r?\n\s*")]
    private static partial Regex ContinuationPattern();
}
