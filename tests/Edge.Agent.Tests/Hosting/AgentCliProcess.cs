using System.Collections.Concurrent;
using System.Diagnostics;

namespace EdgeTL.Agent.Tests.Hosting;

/// <summary>
/// <c>edgetl-agent</c> run as a child process (<c>dotnet edgetl-agent.dll …</c> from the test's
/// output folder, so appsettings.json is the shipped one), with its own environment: an
/// <c>EDGETL_</c> variable set here cannot leak into tests running in this process.
/// </summary>
internal static class AgentCliProcess
{
    /// <summary>What the run printed and how it ended (<see cref="ExitCode"/> null: stopped by the test).</summary>
    public sealed record Result(int? ExitCode, string Output, string Error);

    /// <summary>
    /// Runs the agent with <paramref name="args"/> and the <c>EDGETL_</c> variables in
    /// <paramref name="environment"/> (none inherited) in <paramref name="directory"/>; waits for it to
    /// exit, or kills it (by its pid) once <paramref name="stopWhen"/> holds for what it printed so far.
    /// </summary>
    public static async Task<Result> RunAsync(string directory, IReadOnlyDictionary<string, string> environment, string[] args,
        Func<string, string, bool>? stopWhen = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "edgetl-agent.dll"), .. args])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("EDGETL_", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(name);
        foreach (var (name, value) in environment)
            info.Environment[name] = value;
        var output = new ConcurrentQueue<string>();
        var error = new ConcurrentQueue<string>();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) error.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(90);
        bool stopped = false;
        while (!process.HasExited)
        {
            if (deadline.Elapsed > limit || (stopWhen is not null && stopWhen(Text(output), Text(error))))
            {
                process.Kill(entireProcessTree: true);
                stopped = true;
                break;
            }
            await Task.Delay(100);
        }
        await process.WaitForExitAsync();   // and for the last lines of output
        return new Result(stopped ? null : process.ExitCode, Text(output), Text(error));
    }

    private static string Text(ConcurrentQueue<string> lines) => string.Join("\n", lines) + (lines.IsEmpty ? "" : "\n");
}
