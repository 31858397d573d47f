using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Tests.Integration;
using EdgeTL.Reliability.Tests.Harness;
using Xunit.Abstractions;

namespace EdgeTL.Reliability.Tests.Faults;

/// <summary>
/// R1/R2: metrics keep flowing (the agent's telemetry at 10 per second) while the broker is down
/// (the agent's connection to it cut by <see cref="TcpRelay"/>, new ones refused) and while the
/// agent process is killed with SIGKILL again and again. Every metric the agent
/// recorded arrives, in order; a consumer that drops repeats by <c>edgetl-seq</c> sees no duplicate
/// (a kill can make up to <c>Agent:OutboxWindow</c> messages arrive twice).
/// CI runs a 5-second outage with 7 kills in all; <c>bench/soak.sh r1</c> runs RELIABILITY.md's
/// 10-minute outage with 20 kills during it (<see cref="SoakSettings"/>).
/// </summary>
public sealed class OutboxDeliveryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Metrics_survive_a_broker_outage_and_repeated_SIGKILLs_complete_in_order_and_deduplicable()
    {
        using var dir = new TempDirectory("edgetl-r1-");
        using var mosquitto = new MosquittoBroker();
        await using var observer = await TestClient.ConnectAsync(mosquitto.Port, "test", "dev1");
        using var network = new TcpRelay(mosquitto.Port);   // the agent's way to the broker, which the test cuts
        using var agent = new AgentProcess(dir.Path, network.Port, configure: a => a["TelemetryInterval"] = "00:00:00.100");
        var random = new Random(9);
        int kills = 0;

        agent.Start();
        for (int i = 0; i < 3; i++)   // killed while connected and publishing
        {
            await Task.Delay(random.Next(700, 1500));
            agent.Kill();
            kills++;
            agent.Start();
        }
        long stoppedAfter = Observed.MetricSequences(observer).DefaultIfEmpty().Max();
        network.Cut();   // the broker is gone, for the agent
        var outage = TimeSpan.FromSeconds(SoakSettings.OutageSeconds);
        var outageEnds = DateTime.UtcNow + outage;
        for (int i = 0; i < SoakSettings.KillsDuringOutage; i++)   // killed while the broker is down: the outbox holds everything
        {
            await Task.Delay(outage / (SoakSettings.KillsDuringOutage + 1));
            agent.Kill();
            kills++;
            agent.Start(waitForBroker: false);
        }
        if (outageEnds > DateTime.UtcNow)
            await Task.Delay(outageEnds - DateTime.UtcNow);
        network.Restore();
        long restartedAfter = Observed.MetricSequences(observer).DefaultIfEmpty().Max();
        for (int i = 0; i < 2; i++)   // killed while the backlog drains
        {
            await Task.Delay(random.Next(300, 900));
            agent.Kill();
            kills++;
            agent.Start();
        }
        await Task.Delay(1500);
        var (exitCode, _) = agent.Terminate(TimeSpan.FromSeconds(30));

        var (last, left) = Observed.Outbox(agent);
        var deadline = DateTime.UtcNow.AddSeconds(20 + last / 100);
        while (Observed.MetricSequences(observer).Distinct().Count() < last && DateTime.UtcNow < deadline)
            await Task.Delay(100);

        var arrivals = Observed.MetricSequences(observer);
        var firstArrivals = arrivals.Distinct().ToList();   // a consumer keeps the first of each seq
        int redelivered = arrivals.Count - firstArrivals.Count;
        var missing = Enumerable.Range(1, (int)last).Select(n => (long)n).Except(firstArrivals).ToList();
        output.WriteLine($"{agent.Starts} starts, {kills} SIGKILLs; recorded {last} messages, received {firstArrivals.Count} distinct " +
            $"({redelivered} redelivered after a kill), missing {missing.Count}; left in the outbox after SIGTERM: {left}; exit code {exitCode}");

        foreach (long gap in missing.Take(3))
            output.WriteLine($"seq {gap} missing; arrivals around it: {string.Join(' ', arrivals.Where(n => Math.Abs(n - gap) <= 3))}; broker cut off after seq {stoppedAfter}, back after seq {restartedAfter}");
        Assert.Equal(0, exitCode);
        Assert.Equal(0, left);
        Assert.True(last >= 50, $"only {last} metrics were recorded");
        Assert.Empty(missing);                                        // 0 lost
        Assert.Equal(firstArrivals.Order().ToList(), firstArrivals);  // order kept
        // QoS 1 is at-least-once: a SIGKILL can catch up to Agent:OutboxWindow messages published and
        // not yet removed from the outbox (awaiting their PUBACK, or acknowledged and awaiting their
        // batched removal), and the restarted agent publishes them again. The agent runs with the
        // setting's default, read here.
        int window = new AgentOptions().OutboxWindow;
        Assert.True(redelivered <= kills * window, $"{redelivered} redeliveries after {kills} kills: more than the window of {window} messages per kill");
        Assert.Empty(agent.CrashLines());
        var health = observer.Metrics("system")[^1]["data"]!.AsObject();   // what the heartbeat carries
        Assert.True(health["uptimeS"]!.GetValue<double>() > 0);
        Assert.True(health["workingSetMb"]!.GetValue<double>() > 0);
        Assert.True(health["outboxDepth"]!.GetValue<int>() >= 0);
        Assert.True(health["connected"]!.GetValue<bool>());
    }
}
