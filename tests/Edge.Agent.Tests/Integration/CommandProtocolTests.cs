using System.Text;
using System.Text.Json.Nodes;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Deployment;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>Bad commands over a real broker each get the right error result; a replayed id runs once, also across a restart.</summary>
[Collection(SharedPackages.Name)]
public sealed class CommandProtocolTests(DeploymentPackages packages)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Malformed_unknown_expired_oversize_and_wrong_device_commands_each_get_their_error_result()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port, configure: o => o with { MaxCommandBytes = 4096 });
        await harness.StartAsync();
        string invalid = "edgetl/test/dev1/result/_invalid";

        await cloud.PublishAsync("edgetl/test/dev1/cmd/status", Encoding.UTF8.GetBytes("{not json"));
        var malformed = await TestClient.WaitAsync(() => cloud.Received.FirstOrDefault(m => m.Topic == invalid), Wait, "the malformed result");
        TestClient.AssertStatus(malformed.Json, "malformed");

        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "reboot-now"), Wait), "unknownCommand");
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "status", expiresAt: DateTimeOffset.UtcNow.AddMinutes(-1)), Wait), "expired");
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", new JsonObject { ["image"] = 42 }), Wait), "invalidArguments");

        await cloud.PublishAsync("edgetl/test/dev1/cmd/ingest", new byte[5000]);
        await TestClient.WaitAsync(() => cloud.Received.Count(m => m.Topic == invalid) >= 2 ? "" : null, Wait, "the oversize result");
        TestClient.AssertStatus(cloud.Received.Where(m => m.Topic == invalid).ElementAt(1).Json, "tooLarge");

        // A command handed to this agent for another device (only an in-process caller can: the agent
        // subscribes to its own topics) is answered as such, and not run.
        harness.Agent.Submit("edgetl/test/dev2/cmd/status", Encoding.UTF8.GetBytes($$"""{"id":"other-1","name":"status","issuedAt":"{{DateTimeOffset.UtcNow:O}}"}"""));
        await TestClient.WaitAsync(() => cloud.Received.Count(m => m.Topic == invalid) >= 3 ? "" : null, Wait, "the wrong-device result");
        var wrong = cloud.Received.Where(m => m.Topic == invalid).ElementAt(2).Json;
        TestClient.AssertStatus(wrong, "wrongDevice");
        Assert.Contains("dev2", wrong["message"]!.GetValue<string>(), StringComparison.Ordinal);

        // The agent is still fine.
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "status"), Wait), "ok");
    }

    [Fact]
    public async Task Training_commands_are_answered_deferred_with_the_gate_reason_while_the_resource_gate_is_closed()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port);
        var agent = await harness.StartAsync();
        agent.TrainingGate = () => "Training deferred: temperature 91.0°C is over the limit 80.0°C";

        var refused = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["epochs"] = 3 }), Wait);
        TestClient.AssertStatus(refused, "deferred");
        Assert.Equal("finetune", refused["data"]!["kind"]!.GetValue<string>());
        Assert.False(refused["data"]!["retriesWhenOpen"]!.GetValue<bool>());
        Assert.Contains("91.0°C", refused["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var metric = await TestClient.WaitAsync(() => cloud.Metrics(MetricKinds.Deferred) is { Count: > 0 } m ? m[0] : null, Wait, "the deferred metric");
        Assert.Contains("91.0°C", metric["data"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);

        var badArgs = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["epochs"] = -2 }), Wait);
        TestClient.AssertStatus(badArgs, "invalidArguments");
        // The backbone modes meet the same gate.
        var progressive = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["mode"] = "progressive" }), Wait);
        TestClient.AssertStatus(progressive, "deferred");
        var tooShort = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["mode"] = "surgical", ["epochs"] = 2 }), Wait);
        TestClient.AssertStatus(tooShort, "invalidArguments");
    }

    [Fact]
    public async Task A_burst_beyond_the_queue_gets_busy_answers_and_every_command_an_answer()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port, configure: o => o with { CommandQueueCapacity = 2 });
        await harness.StartAsync();

        // 200 commands handed to the agent as fast as its receive loop would: the queue of 2 overflows.
        var agent = harness.Agent;
        var ids = new List<string>();
        for (int i = 0; i < 200; i++)
        {
            string id = $"burst-{i}";
            ids.Add(id);
            agent.Submit("edgetl/test/dev1/cmd/status", Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","name":"status","issuedAt":"{{DateTimeOffset.UtcNow:O}}"}"""));
        }
        await TestClient.WaitAsync(() => ids.All(id => cloud.Results(id).Count > 0) ? "" : null, Wait, "an answer to each of 200 commands");

        var statuses = ids.Select(id => cloud.Results(id)[0]["status"]!.GetValue<string>()).ToList();
        Assert.All(statuses, s => Assert.True(s is "ok" or "busy", s));
        Assert.Contains("busy", statuses);
        Assert.Contains("ok", statuses);
    }

    [Fact]
    public async Task A_running_job_can_be_cancelled_and_its_result_says_so()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port);
        var agent = await harness.StartAsync();
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy",
            new JsonObject { ["url"] = new Uri(packages.Sign(packages.First, "cancel-v1", counter: 1)).AbsoluteUri }), Wait), "ok");
        await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "set-config", new JsonObject { ["coldStartShots"] = 1000 }), Wait);
        var train = SampleImages.FirstFiveClasses(perClass: 4, seed: 1);
        for (int i = 0; i < train.Count; i++)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(train, i, labelled: true, domain: "source")), Wait), "ok");

        string job = await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["epochs"] = 1000 });
        await TestClient.WaitAsync(() => cloud.Metrics("training").Count > 0 ? "" : null, Wait, "the first epoch");
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["epochs"] = 1 }), Wait), "busy");
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "cancel", new JsonObject { ["id"] = job }), Wait), "ok");

        TestClient.AssertStatus(await cloud.FinalResultAsync(job, Wait), "cancelled");
        Assert.Null(agent.Server.Head);   // nothing half-trained is served
        Assert.Null(agent.Jobs.Current);
    }

    [Fact]
    public async Task A_replayed_command_id_runs_once_also_across_an_agent_restart()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port);
        await harness.StartAsync();
        var image = SampleImages.IngestArgs(SampleImages.FirstFiveClasses(1, seed: 5), 0, labelled: true, domain: "source");

        const string id = "ingest-once-1";
        for (int i = 0; i < 20; i++)
            await cloud.SendAsync("test", "dev1", "ingest", image, id);
        await TestClient.WaitAsync(() => cloud.Results(id).Count >= 20 ? "" : null, Wait, "20 answers");
        await harness.RestartAsync();
        for (int i = 0; i < 20; i++)
            await cloud.SendAsync("test", "dev1", "ingest", image, id);
        await TestClient.WaitAsync(() => cloud.Results(id).Count >= 40 ? "" : null, Wait, "40 answers");

        var statuses = cloud.Results(id).Select(r => r["status"]!.GetValue<string>()).ToList();
        Assert.Equal(1, statuses.Count(s => s == "ok"));
        Assert.Equal(39, statuses.Count(s => s == "duplicate"));
        Assert.Equal(1, harness.Agent.Store.Samples.Count);   // stored once
        // A duplicate carries the first run's whole final result.
        var duplicate = cloud.Results(id).Last(r => r["status"]!.GetValue<string>() == "duplicate");
        Assert.Equal("ok", duplicate["data"]!["firstResult"]!["status"]!.GetValue<string>());
        Assert.Equal(1, duplicate["data"]!["firstResult"]!["data"]!["sampleId"]!.GetValue<long>());
    }
}
