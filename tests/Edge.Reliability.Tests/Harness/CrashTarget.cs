using System.Collections.Concurrent;
using System.Diagnostics;

namespace EdgeTL.Reliability.Tests.Harness;

/// <summary>
/// Runs tests/Edge.CrashTarget (<c>swap</c> or <c>store</c>) and kills it with SIGKILL after a
/// delay; collects the lines it printed, each one the acknowledgement of a step that returned.
/// </summary>
public static class CrashTarget
{
    /// <summary>Starts the target with <paramref name="arguments"/>, waits for "ready", lets it run <paramref name="runFor"/>, then SIGKILLs it; returns its lines.</summary>
    public static IReadOnlyList<string> RunAndKill(IReadOnlyList<string> arguments, TimeSpan runFor)
    {
        var lines = new ConcurrentQueue<string>();
        var info = new ProcessStartInfo("dotnet", [RepoPaths.CrashTargetDll, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue("stderr: " + e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!lines.Any(l => l.StartsWith("ready", StringComparison.Ordinal)))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                if (!process.HasExited)
                    process.Kill();
                throw new InvalidOperationException($"The crash target did not get ready:\n{string.Join('\n', lines)}");
            }
            Thread.Sleep(5);
        }
        Thread.Sleep(runFor);
        if (process.HasExited)
            throw new InvalidOperationException($"The crash target exited by itself with {process.ExitCode}:\n{string.Join('\n', lines.TakeLast(20))}");
        process.Kill();
        process.WaitForExit();   // also waits for the output to be read to its end
        return [.. lines];
    }
}
