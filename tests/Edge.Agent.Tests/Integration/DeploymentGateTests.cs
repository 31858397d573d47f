using System.Text.Json.Nodes;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Deployment;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>Deployments through the agent's command path: a failed health gate rolls back by itself and says why; a bad signature is refused.</summary>
[Collection(SharedPackages.Name)]
public sealed class DeploymentGateTests(DeploymentPackages packages)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_package_whose_health_gate_fails_is_rolled_back_automatically_with_a_result_saying_why()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port);
        var agent = await harness.StartAsync();

        var first = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy", Url(packages.Sign(packages.First, "gate-v1", counter: 1))), Wait);
        TestClient.AssertStatus(first, "ok");
        var bad = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy", Url(packages.Sign(packages.Second, "gate-v2", counter: 2, goldenOffset: 0.05f))), Wait);

        TestClient.AssertStatus(bad, "failed");
        Assert.Equal("RolledBack", bad["data"]!["status"]!.GetValue<string>());
        Assert.Contains("golden outputs do not match", bad["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(bad["data"]!["health"]!["passed"]!.GetValue<bool>());
        Assert.Equal(1, bad["data"]!["counter"]!.GetValue<long>());
        Assert.Equal(1, agent.Server.Counter);   // the first model serves again

        var status = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "status"), Wait);
        Assert.Equal("1.1.0", status["data"]!["model"]!["version"]!.GetValue<string>());
        var deployments = await TestClient.WaitAsync(() => cloud.Metrics("deployment") is { Count: 2 } m ? m : null, Wait, "two deployment events");
        Assert.Equal(["Promoted", "RolledBack"], deployments.Select(d => d["data"]!["status"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_package_signed_by_an_untrusted_key_is_refused_and_the_old_model_keeps_serving()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port);
        var agent = await harness.StartAsync();
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy", Url(packages.Sign(packages.First, "trust-v1", counter: 1))), Wait), "ok");

        using var stranger = Runtime.Packaging.SigningKey.Create();
        var refused = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy", Url(packages.Sign(packages.Second, "trust-v2", counter: 2, key: stranger))), Wait);

        TestClient.AssertStatus(refused, "failed");
        Assert.Equal("Rejected", refused["data"]!["status"]!.GetValue<string>());
        Assert.Equal(1, agent.Server.Counter);
    }

    private static JsonObject Url(string path) => new() { ["url"] = new Uri(path).AbsoluteUri };
}
