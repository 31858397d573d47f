using System.Text.Json.Nodes;
using EdgeTL.Agent.Tests.Deployment;
using EdgeTL.Agent.Tests.Integration;
using Xunit.Abstractions;

namespace EdgeTL.Agent.Tests.Issues;

/// <summary>
/// Issue 16, defect 1 (and RELIABILITY R15): every device received every other device's commands,
/// because the agent subscribed to <c>edgetl/{fleet}/+/cmd/+</c> and answered other devices' traffic
/// with <c>wrongDevice</c>. Two agents on one mosquitto; the broker's own log says what each subscribed to.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class Issue16FleetTests(DeploymentPackages packages, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_device_received_every_other_devices_commands()
    {
        string log = Path.Combine(Path.GetTempPath(), $"edgetl-mosquitto-{Guid.NewGuid():N}.log");
        try
        {
            using var mosquitto = new MosquittoBroker($"log_dest file {log}\nlog_type subscribe");
            await using var watch1 = await TestClient.ConnectAsync(mosquitto.Port, "test", "cam-01", "watch1");
            await using var watch2 = await TestClient.ConnectAsync(mosquitto.Port, "test", "cam-02", "watch2");
            await using var one = new AgentHarness(packages.Key, mosquitto.Port, device: "cam-01");
            await using var two = new AgentHarness(packages.Key, mosquitto.Port, device: "cam-02");
            await one.StartAsync();
            await two.StartAsync();
            // ConnectCount rises once the subscriptions are made and the state is published.
            await TestClient.WaitAsync(() => one.Agent.Connection.ConnectCount > 0 && two.Agent.Connection.ConnectCount > 0 ? "" : null, Wait, "both agents subscribed");
            // cam-01's own retained state (published as it connects) has arrived before anything is counted.
            await TestClient.WaitAsync(() => watch1.Received.Any(m => m.Topic == "edgetl/test/cam-01/state") ? "" : null, Wait, "cam-01's state");
            await Task.Delay(300);
            int before = watch1.Received.Count;

            // Commands to cam-02, good and bad: cam-02 answers them; cam-01 must publish nothing.
            TestClient.AssertStatus(await watch2.FinalResultAsync(await watch2.SendAsync("test", "cam-02", "status"), Wait), "ok");
            TestClient.AssertStatus(await watch2.FinalResultAsync(await watch2.SendAsync("test", "cam-02", "finetune", new JsonObject { ["epochs"] = 0 }), Wait), "invalidArguments");
            await watch2.PublishAsync("edgetl/test/cam-02/cmd/status", "{broken"u8.ToArray());
            await TestClient.WaitAsync(() => watch2.Received.Any(m => m.Topic == "edgetl/test/cam-02/result/_invalid") ? "" : null, Wait, "cam-02's malformed answer");
            await Task.Delay(1000);   // anything cam-01 would have said has had time to arrive
            var fromOne = watch1.Received.Skip(before).Where(m => m.Topic.StartsWith("edgetl/test/cam-01/", StringComparison.Ordinal) && !m.Topic.Contains("/cmd/", StringComparison.Ordinal)).ToList();
            Assert.True(fromOne.Count == 0, "cam-01 published: " + string.Join(", ", fromOne.Select(m => m.Topic)));

            // Broker side: each agent's subscriptions are exactly its own command topic and its group's deploy topic.
            var subscriptions = SubscriptionsByClient(File.ReadAllLines(log));
            foreach (var (device, agent) in new[] { ("cam-01", one.Agent), ("cam-02", two.Agent) })
            {
                string client = $"edgetl-test-{device}";
                Assert.True(subscriptions.TryGetValue(client, out var filters), $"mosquitto logged no SUBSCRIBE from {client}: {string.Join(" | ", File.ReadAllLines(log).Take(20))}");
                output.WriteLine($"{client} subscribed to: {string.Join(", ", filters)}");
                Assert.Equal(new[] { agent.Topics.CommandFilter, agent.Topics.GroupDeploy("all") }.Order(StringComparer.Ordinal), filters.Order(StringComparer.Ordinal));
            }
        }
        finally
        {
            File.Delete(log);
        }
    }

    /// <summary>mosquitto 2.0's <c>log_type subscribe</c> lines: <c>TIME: CLIENT QOS FILTER</c>.</summary>
    private static Dictionary<string, HashSet<string>> SubscriptionsByClient(IEnumerable<string> lines)
    {
        var result = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 4 || !parts[0].EndsWith(':') || !int.TryParse(parts[2], out _))
                continue;
            if (!result.TryGetValue(parts[1], out var set))
                result[parts[1]] = set = new HashSet<string>(StringComparer.Ordinal);
            set.Add(parts[3]);
        }
        return result;
    }
}
