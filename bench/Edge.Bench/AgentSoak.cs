using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace EdgeTL.Bench;

/// <summary>
/// The agent as the service runs (<c>edgetl-agent run --config …</c>, its own process, so its RSS
/// and threads are its own) for a given time while metrics flow (its <c>metrics/system</c>
/// telemetry at a short interval) and <c>status</c> commands arrive at a fixed rate; RSS and thread
/// count read from <c>/proc/{pid}/status</c> at a fixed interval.
/// </summary>
internal static class AgentSoak
{
    /// <summary>One reading of the agent process.</summary>
    public sealed record Sample(double Seconds, double RssMb, int Threads);

    /// <summary>What the run measured.</summary>
    public sealed record Figures(IReadOnlyList<Sample> Samples, CommandProbe.Step Commands, long Metrics, string? Failure);

    public static async Task<Figures> RunAsync(int brokerPort, double minutes, double commandRate, TimeSpan telemetryInterval, TimeSpan sampleEvery)
    {
        using var dir = new TempFolder("edgetl-bench-soak-");
        const string device = "soak";
        Directory.CreateDirectory(Path.Combine(dir.Path, "keys"));
        var agent = new JsonObject
        {
            ["Fleet"] = "bench",
            ["Device"] = device,
            ["DataDirectory"] = Path.Combine(dir.Path, "data"),
            ["TrustedKeysDirectory"] = Path.Combine(dir.Path, "keys"),
            ["Broker"] = new JsonObject { ["Host"] = "127.0.0.1", ["Port"] = brokerPort, ["ReconnectDelay"] = "00:00:00.100", ["MaxReconnectDelay"] = "00:00:01" },
            ["MaxLoadPerCore"] = 1000,
            ["TelemetryInterval"] = telemetryInterval.ToString("c", CultureInfo.InvariantCulture),
            ["Drift"] = new JsonObject { ["Enabled"] = false },
        };
        string config = Path.Combine(dir.Path, "agent.json");
        await File.WriteAllTextAsync(config, new JsonObject { ["Agent"] = agent }.ToJsonString()).ConfigureAwait(false);

        long metrics = 0;
        await using var metricCounter = await BenchClient.ConnectAsync(brokerPort, $"edgetl/bench/{device}/metrics/#", (_, _, _) => Interlocked.Increment(ref metrics)).ConfigureAwait(false);
        await using var probe = await CommandProbe.ConnectAsync(brokerPort, "bench", device).ConfigureAwait(false);

        var output = new ConcurrentQueue<string>();
        var info = new ProcessStartInfo("dotnet", [AgentDll(), "run", "--config", config])
        {
            WorkingDirectory = dir.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start the agent");
        void Keep(string? line)
        {
            if (line is null)
                return;
            output.Enqueue(line);
            while (output.Count > 200)
                output.TryDequeue(out _);
        }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var ready = Stopwatch.StartNew();
            while (!await probe.PingAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false))
            {
                if (process.HasExited || ready.Elapsed > TimeSpan.FromSeconds(90))
                    return new Figures([], new CommandProbe.Step(commandRate, 0, 0, 0, 0, 0, 0, 0), 0, "the agent did not answer within 90 s:\n" + string.Join('\n', output));
            }

            var samples = new List<Sample>();
            var clock = Stopwatch.StartNew();
            using var stop = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    if (Read(process.Id) is { } reading)
                    {
                        lock (samples)
                            samples.Add(new Sample(clock.Elapsed.TotalSeconds, reading.RssMb, reading.Threads));
                    }
                    try
                    {
                        await Task.Delay(sampleEvery, stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            });
            long metricsAtStart = Interlocked.Read(ref metrics);
            var commands = await probe.RunAsync(commandRate, minutes * 60, "soak").ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await sampler.ConfigureAwait(false);
            if (Read(process.Id) is { } last)
                samples.Add(new Sample(clock.Elapsed.TotalSeconds, last.RssMb, last.Threads));
            return new Figures(samples, commands, Interlocked.Read(ref metrics) - metricsAtStart, process.HasExited ? "the agent exited during the run:\n" + string.Join('\n', output) : null);
        }
        finally
        {
            if (!process.HasExited)
            {
                using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
                    kill?.WaitForExit();
                if (!process.WaitForExit(20_000))
                    process.Kill();
            }
        }
    }

    /// <summary>VmRSS (MB) and Threads of <paramref name="pid"/> from /proc; null when it is gone.</summary>
    private static (double RssMb, int Threads)? Read(int pid)
    {
        try
        {
            double rss = 0;
            int threads = 0;
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    rss = long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
                else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                    threads = int.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
            return (rss, threads);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The agent as the solution builds it (src/Edge.Agent's own output folder, with its deps.json).</summary>
    private static string AgentDll()
    {
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "src", "Edge.Agent", "bin", configuration, "net10.0", "edgetl-agent.dll");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"src/Edge.Agent/bin/{configuration}/net10.0/edgetl-agent.dll not found above {AppContext.BaseDirectory}: build bench/Edge.Bench first.");
    }
}
