using System.Text.Json.Nodes;
using EdgeTL.Agent.Tests.Deployment;
using Xunit.Abstractions;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>The outbox across a broker outage, against a real mosquitto that is stopped and restarted.</summary>
[Collection(SharedPackages.Name)]
public sealed class BrokerOutageTests(DeploymentPackages packages, ITestOutputHelper output)
{
    [Fact]
    public async Task Broker_down_for_60_s_while_metrics_are_produced_every_metric_arrives_in_order_without_duplicates()
    {
        using var mosquitto = new MosquittoBroker();
        await using var cloud = await TestClient.ConnectAsync(mosquitto.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, mosquitto.Port);
        var agent = await harness.StartAsync();
        int produced = 0;
        void Produce(int n)
        {
            for (int i = 0; i < n; i++)
                agent.Metrics.Publish(MetricKinds.Event, new AgentEvent("probe", (produced++).ToString(System.Globalization.CultureInfo.InvariantCulture)), ProtocolJson.Default.AgentEvent);
        }
        List<System.Text.Json.Nodes.JsonObject> Probes() => [.. cloud.Metrics(MetricKinds.Event).Where(m => m["data"]!["event"]!.GetValue<string>() == "probe")];

        Produce(50);
        await TestClient.WaitAsync(() => Probes().Count >= 50 ? "" : null, TimeSpan.FromSeconds(30), "the first 50 metrics");
        mosquitto.Stop();
        int beforeOutage = produced;
        var down = DateTime.UtcNow;
        while (DateTime.UtcNow - down < TimeSpan.FromSeconds(60))
        {
            Produce(10);   // 10 metrics/s while the broker is away
            await Task.Delay(1000);
        }
        Assert.False(agent.Connection.IsConnected);
        int waiting = agent.Store.Outbox.Count;
        int producedDuringOutage = produced - beforeOutage;
        mosquitto.Start();
        await cloud.ReconnectAsync();
        Produce(50);
        // Generous: CI runs the test projects side by side on 2 cores, and the backlog drains through the outbox window. A metric
        // that is lost or duplicated fails the test whatever the wait.
        var all = await TestClient.WaitAsync(() => Probes() is { } m && m.Count >= produced ? m : null, TimeSpan.FromSeconds(180), $"{produced} metrics");

        var numbers = all.Select(m => int.Parse(m["data"]!["reason"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        output.WriteLine($"produced {produced} ({producedDuringOutage} in the 60 s outage), {waiting} waited in the outbox during the outage, received {numbers.Count}, reconnects {agent.Connection.ConnectCount}");
        Assert.Equal(Enumerable.Range(0, produced), numbers);   // all, in order, none twice
        var seqs = all.Select(m => m["seq"]!.GetValue<long>()).ToList();
        Assert.Equal(seqs.Distinct().Order(), seqs);
        Assert.Equal(producedDuringOutage, waiting);   // everything produced during the outage waited in the outbox
        Assert.True(producedDuringOutage >= 100, $"only {producedDuringOutage} metrics were produced during the outage");
        // Rows go once their PUBACKs are in. With several publishes in flight (Agent:OutboxWindow),
        // this mosquitto (Nagle on: no set_tcp_nodelay) can hold the last PUBACKs of the backlog
        // for its client's delayed ACK, ~40 ms, after it forwarded the messages to the cloud.
        await TestClient.WaitAsync(() => agent.Store.Outbox.Count == 0 ? "" : null, TimeSpan.FromSeconds(5), "the outbox to empty");
        Assert.Equal(0, agent.Store.Outbox.Count);
    }
}
