using System.Text.Json.Nodes;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Deployment;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>
/// A <c>rollback</c> that arrives while a fine-tune trains, over a real broker: the candidate was trained
/// on the features of a model that no longer serves, so the job stops with <c>ModelChanged</c> and
/// nothing it made is served; the rolled-back model serves, and the next fine-tune trains for it.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class RollbackDuringJobTests(DeploymentPackages packages)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_rollback_during_a_finetune_stops_it_with_ModelChanged_and_serves_nothing_it_made()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port);
        var agent = await harness.StartAsync();
        foreach (var (version, counter) in new[] { ("race-v1", 1L), ("race-v2", 2L) })
        {
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy",
                new JsonObject { ["url"] = new Uri(packages.Sign(packages.First, version, counter)).AbsoluteUri }), Wait), "ok");
        }
        await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "set-config", new JsonObject { ["coldStartShots"] = 1000 }), Wait);
        // Enough rows that 1000 head epochs take seconds: the rollback lands long before the last one.
        var train = SampleImages.FirstFiveClasses(perClass: 16, seed: 3);
        for (int i = 0; i < train.Count; i++)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(train, i, labelled: true, domain: "source")), Wait), "ok");

        string job = await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["epochs"] = 1000 });
        await TestClient.WaitAsync(() => cloud.Metrics("training").Count > 0 ? "" : null, Wait, "the first epoch");
        var rolledBack = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "rollback"), Wait);
        TestClient.AssertStatus(rolledBack, "ok");

        var stopped = await cloud.FinalResultAsync(job, Wait);
        TestClient.AssertStatus(stopped, "failed");
        Assert.Equal("ModelChanged", stopped["data"]!["code"]!.GetValue<string>());
        Assert.Contains("rollback", stopped["message"]!.GetValue<string>(), StringComparison.Ordinal);
        // The last epoch always publishes its progress: a run that stopped at the rollback never reached it.
        Assert.DoesNotContain(cloud.Metrics("training"), m => m["data"]!["job"]!.GetValue<string>() == job && m["data"]!["epoch"]!.GetValue<int>() == 999);
        Assert.Equal(1, agent.Server.Counter);
        Assert.Null(agent.Server.Head);   // nothing trained on counter 2's features serves on counter 1

        var next = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["epochs"] = 5 }), Wait);
        TestClient.AssertStatus(next, "ok");
        Assert.Equal(1, agent.Server.Head!.Record.PackageCounter);
    }
}
