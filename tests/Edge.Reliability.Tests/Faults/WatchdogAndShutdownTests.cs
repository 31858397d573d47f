using System.Text;
using System.Text.Json.Nodes;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Integration;
using EdgeTL.Reliability.Tests.Harness;
using LiteDB;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Xunit.Abstractions;

namespace EdgeTL.Reliability.Tests.Faults;

/// <summary>
/// R12: the systemd watchdog is fed only while the agent's loops make progress, and SIGTERM
/// (systemd's stop) flushes the outbox within the unit's TimeoutStopSec, or, when the broker is
/// gone, keeps what it could not send for the next start.
/// </summary>
public sealed class WatchdogAndShutdownTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task A_hung_command_loop_stops_the_watchdog_pings_and_they_resume_when_it_moves_again()
    {
        using var dir = new TempDirectory("edgetl-r12-hang-");
        await using var broker = await EmbeddedBroker.StartAsync();
        using var notify = new NotifySocket();
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:Fleet"] = "test",
            ["Agent:Device"] = "dev1",
            ["Agent:DataDirectory"] = Path.Combine(dir.Path, "data"),
            ["Agent:TrustedKeysDirectory"] = Path.Combine(dir.Path, "keys"),
            ["Agent:Broker:Port"] = broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Agent:WatchdogInterval"] = Interval.ToString(),
            ["Agent:Drift:Enabled"] = "false",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<ISystemdNotifier>(new SocketNotifier(notify.Path));   // systemd's socket, for this host only
        services.AddEdgeAgent(settings.GetSection("Agent"));
        await using var provider = services.BuildServiceProvider();
        var worker = provider.GetServices<IHostedService>().OfType<AgentWorker>().Single();
        await worker.StartAsync(CancellationToken.None);
        try
        {
            await TestClient.WaitAsync(() => worker.Agent is { Connection.IsConnected: true } a ? a : null, TimeSpan.FromSeconds(30), "the agent to connect");
            var agent = worker.Agent!;
            await Task.Delay(Interval * 5);
            var healthy = DateTime.UtcNow;
            await Task.Delay(Interval * 10);
            int pingsWhileHealthy = notify.PingsSince(healthy);

            // The hang: a stuck writer holds the inbox's write lock (as a stalled disk would), so the
            // command loop blocks inside its next command's inbox claim.
            using var holding = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            var stuck = new Thread(() =>
            {
                agent.Store.Database.BeginTrans();
                agent.Store.Database.GetCollection("inbox").Insert(new BsonDocument { ["_id"] = "stuck-writer", ["Name"] = "x" });
                holding.Set();
                release.Wait();
                agent.Store.Database.Rollback();
            });
            stuck.Start();
            holding.Wait();
            agent.Submit("edgetl/test/dev1/cmd/status", Encoding.UTF8.GetBytes(new JsonObject { ["id"] = "s-hang", ["name"] = "status", ["issuedAt"] = DateTimeOffset.UtcNow.ToString("O") }.ToJsonString()));
            await Task.Delay(Interval * 4 + TimeSpan.FromSeconds(1));   // past the progress window (3 intervals + 1 s)
            var hung = DateTime.UtcNow;
            await Task.Delay(Interval * 8);
            int pingsWhileHung = notify.PingsSince(hung);

            release.Set();
            stuck.Join();
            var resumed = DateTime.UtcNow;
            await Task.Delay(Interval * 10);
            int pingsAfter = notify.PingsSince(resumed);
            output.WriteLine($"watchdog pings every {Interval.TotalMilliseconds} ms: {pingsWhileHealthy} in 2 s healthy, {pingsWhileHung} in 1.6 s hung, {pingsAfter} in 2 s after the loop moved again");

            Assert.True(pingsWhileHealthy >= 5, $"{pingsWhileHealthy} pings while healthy");
            Assert.Equal(0, pingsWhileHung);
            Assert.True(pingsAfter >= 3, $"{pingsAfter} pings after the hang ended");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task SIGTERM_flushes_the_outbox_within_TimeoutStopSec_and_keeps_what_a_dead_broker_could_not_take()
    {
        var timeoutStop = TimeoutStopSec();
        using var dir = new TempDirectory("edgetl-r12-stop-");
        using var mosquitto = new MosquittoBroker();
        await using var observer = await TestClient.ConnectAsync(mosquitto.Port, "test", "dev1");
        using var notify = new NotifySocket();
        using var network = new TcpRelay(mosquitto.Port);
        using var agent = new AgentProcess(dir.Path, network.Port, configure: a =>
        {
            a["TelemetryInterval"] = "00:00:00.020";   // 50 metrics per second: a backlog is queued at any moment
            a["ShutdownFlushTimeout"] = "00:00:05";
        }, environment: new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notify.Path });

        // 1. Broker up: SIGTERM drains everything recorded.
        agent.Start();
        await Task.Delay(3000);
        var (code, took) = agent.Terminate(timeoutStop);
        var (last, left) = Observed.Outbox(agent);
        await TestClient.WaitAsync(() => Observed.MetricSequences(observer).Count >= last ? "" : null, TimeSpan.FromSeconds(10), $"{last} metrics");
        output.WriteLine($"broker up: SIGTERM → exit {code} in {took.TotalSeconds:F2} s (TimeoutStopSec {timeoutStop.TotalSeconds} s); {last} recorded, {Observed.MetricSequences(observer).Count} delivered, {left} left; {notify.PingsSince(DateTime.MinValue)} watchdog pings");
        Assert.Equal(0, code);
        Assert.True(took < timeoutStop);
        Assert.Equal(0, left);
        Assert.Equal(Enumerable.Range(1, (int)last).Select(n => (long)n), Observed.MetricSequences(observer).Order());
        Assert.True(notify.PingsSince(DateTime.MinValue) >= 5, "the running agent fed no watchdog");

        // 2. Broker gone: SIGTERM waits ShutdownFlushTimeout, exits in time, and the store keeps the rest.
        agent.Start();
        await Task.Delay(1000);
        network.Cut();
        await Task.Delay(1000);
        (code, took) = agent.Terminate(timeoutStop);
        var (lastBeforeRestart, kept) = Observed.Outbox(agent);
        output.WriteLine($"broker down: SIGTERM → exit {code} in {took.TotalSeconds:F2} s with {kept} metrics kept in the store");
        Assert.Equal(0, code);
        Assert.True(took < timeoutStop);
        Assert.True(kept > 0);

        // 3. The next start delivers what was kept.
        network.Restore();
        agent.Start();
        await TestClient.WaitAsync(() => Enumerable.Range(1, (int)lastBeforeRestart).All(n => Observed.MetricSequences(observer).Contains(n)) ? "" : null,
            TimeSpan.FromSeconds(30), $"every metric up to {lastBeforeRestart}, the kept ones included");
    }

    /// <summary>TimeoutStopSec of the shipped unit (deploy/jetson).</summary>
    private static TimeSpan TimeoutStopSec()
    {
        string unit = Path.Combine(RepoPaths.Root, "deploy", "jetson", "edgetl-agent.service");
        string line = File.ReadAllLines(unit).Single(l => l.StartsWith("TimeoutStopSec=", StringComparison.Ordinal));
        return TimeSpan.FromSeconds(int.Parse(line["TimeoutStopSec=".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>sd_notify to a given socket path (as systemd's own protocol: one datagram per state).</summary>
    private sealed class SocketNotifier(string path) : ISystemdNotifier
    {
        public bool IsEnabled => true;

        public void Notify(ServiceState state)
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state.ToString()), new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        }
    }
}
