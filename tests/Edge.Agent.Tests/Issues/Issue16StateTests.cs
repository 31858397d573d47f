using System.Text.Json.Nodes;
using EdgeTL.Agent.Tests.Deployment;
using EdgeTL.Agent.Tests.Integration;
using Xunit.Abstractions;

namespace EdgeTL.Agent.Tests.Issues;

/// <summary>
/// Issue 16, defects 3, 4 and 7: the retained state was wrong (no new state after a head rollback,
/// <c>lastDeployment</c> null after a restart, <c>training: available</c> while status said deferred);
/// cold start was skipped silently while the resource gate was closed; one MQTT message per training epoch.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class Issue16StateTests(DeploymentPackages packages, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Retained_state_disagreed_with_status_after_rollback_restart_and_gate_change()
    {
        using var mosquitto = new MosquittoBroker();
        await using var cloud = await TestClient.ConnectAsync(mosquitto.Port, "test", "dev1");
        // This test follows the retained state through a promoted head; whether the guard promotes a head
        // trained on an untrained test package is not its subject (the guard's tests are in Learning/), and at
        // the default tolerance its verdict here sat on the edge (4 won, 1 lost on 25). So the guard is lax.
        await using var harness = new AgentHarness(packages.Key, mosquitto.Port,
            configure: o => o with { GateCheckInterval = TimeSpan.FromMilliseconds(200), PromotionTolerance = 0.5 });
        var agent = await harness.StartAsync();
        async Task<JsonObject> Status() => TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "status"), Wait), "ok")["data"]!.AsObject();
        async Task Agree(string after) => output.WriteLine($"after {after}: {(await RetainedState.AgreesWithAsync(mosquitto.Port, "test", "dev1", await Status(), Wait)).ToJsonString()}");

        // Two deploys and a model rollback.
        foreach (var (name, counter) in new[] { ("state-v1", 1), ("state-v2", 2) })
        {
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy",
                new JsonObject { ["url"] = new Uri(packages.Sign(packages.First, name, counter)).AbsoluteUri }), Wait), "ok");
            await Agree($"deploy {name}");
        }
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "rollback", new JsonObject { ["target"] = "model" }), Wait), "ok");
        await Agree("model rollback");

        // A cold-start head, then a promoted fine-tuned head, then a head rollback.
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "set-config", new JsonObject { ["coldStartShots"] = 2 }), Wait), "ok");
        var train = SampleImages.FirstFiveClasses(perClass: 2, seed: 3);
        for (int i = 0; i < train.Count; i++)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(train, i, labelled: true, domain: "source")), Wait), "ok");
        await TestClient.WaitAsync(() => cloud.Metrics(MetricKinds.ColdStart) is { Count: > 0 } m ? m[0] : null, Wait, "the cold-start head");
        await Agree("cold start");
        // The promotion guard compares the fine-tune with the cold-start head on holdout samples that head never saw (labelled after it):
        // 100 more labelled samples put about 24 of them in the holdout, over MinHoldout 20, and the fine-tune trains on the rest
        // (promoted within the lax tolerance set above).
        var more = SampleImages.FirstFiveClasses(perClass: 20, seed: 7);
        for (int i = 0; i < more.Count; i++)
            agent.Ingest(SampleImages.Png(more, i), more.ClassNames[more.Labels[i]], "source", "test");
        var tuned = TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["epochs"] = 30 }), Wait), "ok");
        output.WriteLine($"fine-tune over the cold-start head: {tuned["data"]!["reason"]}");
        await Agree("a promoted head");
        var rolledBack = TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "rollback", new JsonObject { ["target"] = "head" }), Wait), "ok");
        Assert.NotEqual(tuned["data"]!["headId"]!.GetValue<long>(), rolledBack["data"]!["headId"]!.GetValue<long>());
        await Agree("head rollback");

        // A restart keeps the last deployment (the model rollback above).
        agent = await harness.RestartAsync();
        var afterRestart = await Status();
        Assert.Equal("RolledBack", afterRestart["lastDeployment"]!["status"]!.GetValue<string>());
        await Agree("restart");

        // The gate closes and opens: the state follows within the check interval.
        agent.TrainingGate = () => "Training deferred: load 3.10 per core is over the limit 0.90";
        Assert.Equal("deferred", (await Status())["training"]!.GetValue<string>());
        await Agree("the gate closed");
        agent.TrainingGate = () => null;
        Assert.Equal("available", (await Status())["training"]!.GetValue<string>());
        await Agree("the gate opened");
        var changes = cloud.Metrics(MetricKinds.Event).Where(m => m["data"]!["event"]!.GetValue<string>() == "gate-changed").ToList();
        Assert.True(changes.Count >= 2, $"gate changes published: {changes.Count}");
    }

    [Fact]
    public async Task Cold_start_was_skipped_silently_while_the_resource_gate_was_closed()
    {
        await using var broker = await Messaging.EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port, configure: o => o with { GateCheckInterval = TimeSpan.FromMilliseconds(200) });
        var agent = await harness.StartAsync();
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy",
            new JsonObject { ["url"] = new Uri(packages.Sign(packages.First, "coldstart-gate", counter: 1)).AbsoluteUri }), Wait), "ok");
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "set-config", new JsonObject { ["coldStartShots"] = 2 }), Wait), "ok");
        agent.TrainingGate = () => "Training deferred: temperature 86.0°C is over the limit 80.0°C";

        var train = SampleImages.FirstFiveClasses(perClass: 2, seed: 4);
        for (int i = 0; i < train.Count; i++)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(train, i, labelled: true, domain: "source")), Wait), "ok");

        // Visible: one deferred metric saying it will retry, and no head yet.
        var deferred = await TestClient.WaitAsync(() => cloud.Metrics(MetricKinds.Deferred) is { Count: > 0 } m ? m[0] : null, Wait, "the deferred metric");
        Assert.Equal("cold-start", deferred["data"]!["kind"]!.GetValue<string>());
        Assert.True(deferred["data"]!["retriesWhenOpen"]!.GetValue<bool>());
        Assert.Contains("86.0°C", deferred["data"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(agent.Server.Head);
        Assert.Single(cloud.Metrics(MetricKinds.Deferred));

        // The gate opens: cold start runs by itself, without another ingest.
        agent.TrainingGate = () => null;
        var coldStart = await TestClient.WaitAsync(() => cloud.Metrics(MetricKinds.ColdStart) is { Count: > 0 } m ? m[0] : null, Wait, "the cold start after the gate opened");
        output.WriteLine($"cold start after the gate opened: {coldStart["data"]!.ToJsonString()}");
        Assert.NotNull(agent.Server.Head);
        Assert.Equal(2, coldStart["data"]!["shotsPerClass"]!.GetValue<int>());
        // A first head is served without comparison, and its report says so (issue 17).
        Assert.Equal(0, coldStart["data"]!["comparedOn"]!.GetValue<int>());
        Assert.Equal("first-head", coldStart["data"]!["guard"]!["test"]!.GetValue<string>());
        Assert.Contains("not a promotion over a serving model (comparedOn: 0)", coldStart["data"]!["guard"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_training_message_per_epoch_flooded_the_broker()
    {
        await using var broker = await Messaging.EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port);
        await harness.StartAsync();
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy",
            new JsonObject { ["url"] = new Uri(packages.Sign(packages.First, "throttle", counter: 1)).AbsoluteUri }), Wait), "ok");
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "set-config", new JsonObject { ["coldStartShots"] = 1000 }), Wait), "ok");
        var train = SampleImages.FirstFiveClasses(perClass: 2, seed: 5);
        for (int i = 0; i < train.Count; i++)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(train, i, labelled: true, domain: "source")), Wait), "ok");

        var tuned = TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["epochs"] = 300 }), Wait), "ok");
        var curve = tuned["data"]!["curve"]!.AsArray();
        var progress = cloud.Metrics(MetricKinds.Training);
        output.WriteLine($"300 epochs in {tuned["data"]!["seconds"]} s: {progress.Count} training messages, {curve.Count} points in the final result");
        Assert.Equal(300, curve.Count);   // the whole curve, in the result
        Assert.InRange(progress.Count, 2, 2 + (int)(tuned["data"]!["seconds"]!.GetValue<double>() / 10));   // first, last, and one per 10 s between
        Assert.Equal(299, progress[^1]["data"]!["epoch"]!.GetValue<int>());
    }
}
