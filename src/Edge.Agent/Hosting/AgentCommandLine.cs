using System.CommandLine;
using EdgeTL.Control;

namespace EdgeTL.Agent.Hosting;

/// <summary>
/// How <c>edgetl-agent</c> reads its command line: without response files (<c>@FILE</c> is
/// <c>send --args @FILE</c>'s argument file; expanded as a response file, its JSON would be split
/// into tokens), and a command line that does not parse exits 2 like every other bad argument.
/// </summary>
internal static class AgentCommandLine
{
    /// <summary>The parser settings: no response files.</summary>
    public static ParserConfiguration Parsing => new() { ResponseFileTokenReplacer = null };

    /// <summary>Parses <paramref name="args"/> and runs the verb; a parse error prints its usage message and exits 2.</summary>
    public static async Task<int> InvokeAsync(string[] args, InvocationConfiguration? invocation = null, CancellationToken cancellationToken = default)
    {
        var parse = AgentCli.Build().Parse(args, Parsing);
        int rc = await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
        return parse.Errors.Count > 0 ? SendExitCodes.BadArguments : rc;
    }
}
