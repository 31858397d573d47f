using System.CommandLine;

namespace EdgeTL.Cloud.Tests;

/// <summary>Runs the real <c>edgetl-cloud</c> root command in this process, capturing its output.</summary>
public static class Cli
{
    public sealed record Run(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
    }

    public static async Task<Run> InvokeAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await CloudCli.Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return new Run(code, output.ToString(), error.ToString());
    }

    /// <summary>Invokes with <paramref name="output"/> as stdout and a token a test cancels (Ctrl+C, as the command line delivers it).</summary>
    public static async Task<Run> InvokeAsync(TextWriter output, CancellationToken cancellationToken, params string[] args)
    {
        using var error = new StringWriter();
        int code = await CloudCli.Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
        return new Run(code, output.ToString() ?? "", error.ToString());
    }

    /// <summary>Invokes and asserts the exit code, showing everything the verb printed when it differs.</summary>
    public static async Task<Run> ExpectAsync(int exitCode, params string[] args)
    {
        var run = await InvokeAsync(args);
        Assert.True(run.ExitCode == exitCode, $"edgetl-cloud {string.Join(' ', args)}: expected exit {exitCode}, got {run}");
        return run;
    }
}
