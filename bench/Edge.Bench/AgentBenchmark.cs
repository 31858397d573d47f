using System.Globalization;
using EdgeTL.Agent;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Messaging;

namespace EdgeTL.Bench;

/// <summary>
/// The device agent's messaging in one run: (a) metrics/s through the durable outbox against raw
/// MQTTnet QoS 1 to a loopback mosquitto the bench starts and to the embedded MQTTnet broker;
/// (b) command acknowledgement latency of a running agent, stepping the command rate up; (c) the
/// agent process's RSS and threads over a long run with metrics and commands flowing.
/// </summary>
internal static class AgentBenchmark
{
    /// <summary>The latency bound of part (b): the largest rate whose p99 stays within it is reported.</summary>
    private const double P99BoundMs = 50;

    public static int Run(string[] args) => RunAsync(Parse(args)).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(Options options)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"agent messaging, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; parts {string.Join(',', options.Parts)}"));
        using var mosquitto = new LoopbackMosquitto();
        int status = 0;
        if (options.Parts.Contains("a"))
            status |= await OutboxAsync(options, mosquitto).ConfigureAwait(false);
        if (options.Parts.Contains("b"))
            status |= await LatencyAsync(options, mosquitto).ConfigureAwait(false);
        if (options.Parts.Contains("c"))
            status |= await SoakAsync(options, mosquitto).ConfigureAwait(false);
        return status;
    }

    private static async Task<int> OutboxAsync(Options options, LoopbackMosquitto mosquitto)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(a) metrics/s, QoS 1, ~{options.Seconds} s per way after a {options.Warmup} s untimed warm-up of raw and outbox, until a subscriber has every message; raw = MQTTnet one publish at a time, pipelined = 64 in flight, outbox window {options.Window} (capped by the broker's Receive Maximum)"));
        Console.WriteLine($"{"broker",-10} {"raw",8} {"pipelined",10} {"outbox",8} {"outbox/raw",10}   {"enqueue only",12} {"drain only",10}   µs/metric: {"enqueue",7} {"peek",5} {"publish",7} {"ack",6}");
        int status = 0;
        await OutboxThroughput.WarmUpAsync(mosquitto.Port, options.Warmup).ConfigureAwait(false);
        var brokers = new List<(string Label, int Port, Func<ValueTask>? Stop)> { ("mosquitto", mosquitto.Port, null) };
        var embedded = await EmbeddedBroker.StartAsync().ConfigureAwait(false);
        brokers.Add(("embedded", embedded.Port, embedded.DisposeAsync));
        foreach (var (label, port, stop) in brokers)
        {
            var f = await OutboxThroughput.MeasureAsync(port, label, options.Seconds, options.Window).ConfigureAwait(false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label,-10} {f.Raw,8:F0} {f.RawPipelined,10:F0} {f.Outbox,8:F0} {f.Outbox / f.Raw,9:F2}×   {f.EnqueueOnly,12:F0} {f.DrainOnly,10:F0}   {"",10} {f.EnqueueUs,7:F1} {f.PeekUs,5:F1} {f.PublishUs,7:F1} {f.AckUs,6:F1}   window {f.Window}{(f.AllArrived ? "" : "  (NOT all messages arrived)")}"));
            if (!f.AllArrived)
                status = 1;
            if (stop is not null)
                await stop().ConfigureAwait(false);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"target: ≥ 5,000 metrics/s through the outbox to mosquitto and ≥ 0.5× raw"));
        return status;
    }

    private static async Task<int> LatencyAsync(Options options, LoopbackMosquitto mosquitto)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(b) status command → result latency, in-process agent on mosquitto, {options.StepSeconds} s per rate (open loop); missing answers count as infinite"));
        Console.WriteLine($"{"rate/s",7} {"sent/s",7} {"sent",6} {"answered",8} {"not ok",6} {"p50 ms",8} {"p99 ms",8} {"max ms",8}");
        using var dir = new TempFolder("edgetl-bench-agent-");
        Directory.CreateDirectory(Path.Combine(dir.Path, "keys"));
        var agentOptions = new AgentOptions
        {
            Fleet = "bench",
            Device = "latency",
            DataDirectory = Path.Combine(dir.Path, "data"),
            TrustedKeysDirectory = Path.Combine(dir.Path, "keys"),
            Broker = new BrokerOptions { Port = mosquitto.Port, ReconnectDelay = TimeSpan.FromMilliseconds(100), MaxReconnectDelay = TimeSpan.FromSeconds(1) },
            ShutdownFlushTimeout = TimeSpan.FromSeconds(3),
            MaxLoadPerCore = 1000,
            TelemetryInterval = TimeSpan.Zero,
        };
        await using var agent = new EdgeAgent(agentOptions);
        await agent.StartAsync().ConfigureAwait(false);
        await agent.Connection.WaitConnectedAsync(new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token).ConfigureAwait(false);
        await using var probe = await CommandProbe.ConnectAsync(mosquitto.Port, "bench", "latency").ConfigureAwait(false);
        if (!await probe.PingAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false))
        {
            Console.WriteLine("the agent did not answer a status command within 15 s");
            return 1;
        }
        await probe.RunAsync(50, 2, "warmup").ConfigureAwait(false);
        double? best = null;
        foreach (double rate in options.Rates)
        {
            var s = await probe.RunAsync(rate, options.StepSeconds, string.Create(CultureInfo.InvariantCulture, $"r{rate}")).ConfigureAwait(false);
            bool within = s.P99 <= P99BoundMs && s.Answered == s.Sent && s.NotOk == 0 && s.SentRate >= 0.95 * rate;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{rate,7:F0} {s.SentRate,7:F0} {s.Sent,6} {s.Answered,8} {s.NotOk,6} {s.P50,8:F1} {s.P99,8:F1} {s.Max,8:F1}{(within ? "" : $"  (p99 over {P99BoundMs} ms, or answers missing or not ok)")}"));
            if (!within)
                break;
            best = rate;
            await Task.Delay(1000).ConfigureAwait(false);   // let the outbox settle between steps
        }
        Console.WriteLine(best is { } b
            ? string.Create(CultureInfo.InvariantCulture, $"largest rate with p99 ≤ {P99BoundMs} ms and every command answered ok: {b:F0} commands/s")
            : $"no rate tried kept p99 ≤ {P99BoundMs} ms");
        return 0;
    }

    private static async Task<int> SoakAsync(Options options, LoopbackMosquitto mosquitto)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(c) agent process (edgetl-agent run) for {options.Minutes} min on mosquitto: {options.SoakRate} status commands/s and metrics/system every {options.TelemetryMs} ms; /proc sampled every {options.SampleSeconds} s"));
        var f = await AgentSoak.RunAsync(mosquitto.Port, options.Minutes, options.SoakRate, TimeSpan.FromMilliseconds(options.TelemetryMs), TimeSpan.FromSeconds(options.SampleSeconds)).ConfigureAwait(false);
        if (f.Failure is not null)
        {
            Console.WriteLine(f.Failure);
            return 1;
        }
        var first = f.Samples[0];
        var last = f.Samples[^1];
        Console.WriteLine($"{"",8} {"start",8} {"end",8} {"max",8}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{"RSS MB",8} {first.RssMb,8:F1} {last.RssMb,8:F1} {f.Samples.Max(s => s.RssMb),8:F1}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{"threads",8} {first.Threads,8} {last.Threads,8} {f.Samples.Max(s => s.Threads),8}"));
        double seconds = last.Seconds - first.Seconds;
        var c = f.Commands;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{f.Samples.Count} samples over {seconds:F0} s; metrics received {f.Metrics} ({f.Metrics / Math.Max(1, seconds):F0}/s); commands sent {c.Sent}, answered {c.Answered}, not ok {c.NotOk}, p50 {c.P50:F1} ms, p99 {c.P99:F1} ms, max {c.Max:F1} ms"));
        return c.Answered == c.Sent ? 0 : 1;
    }

    private sealed record Options(string[] Parts, double Seconds, double Warmup, int Window, double StepSeconds, double[] Rates, double Minutes, double SoakRate, int TelemetryMs, double SampleSeconds);

    private static Options Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        double Number(string name, string fallback) => double.Parse(Get(name, fallback), CultureInfo.InvariantCulture);
        return new Options(
            Get("--parts", "a,b,c").Split(','),
            Number("--seconds", "5"),
            Number("--warmup", "3"),
            int.Parse(Get("--window", OutboxPublisher.DefaultWindow.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture),
            Number("--step-seconds", "10"),
            [.. Get("--rates", "100,200,400,800,1600,3200").Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture))],
            Number("--minutes", "10"),
            Number("--soak-rate", "100"),
            int.Parse(Get("--telemetry-ms", "10"), CultureInfo.InvariantCulture),
            Number("--sample-seconds", "5"));
    }
}
