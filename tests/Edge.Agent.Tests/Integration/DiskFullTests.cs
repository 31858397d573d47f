using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;
using EdgeTL.Agent.Tests.Deployment;
using Xunit.Abstractions;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>
/// RELIABILITY R9, disk full: the agent's data directory on a size-limited tmpfs filled by a
/// filler file. The agent stays up and answers <c>status</c>; ingest, label, finetune and deploy
/// are refused with <c>StorageFull</c>; once the filler is gone everything works again.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class DiskFullTests(DeploymentPackages packages, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task When_the_disk_is_full_the_agent_stays_up_refuses_jobs_with_StorageFull_and_recovers_when_space_returns()
    {
        // 128 MiB: the served ResNet-18 package (its ONNX backbone and trainer weights, ~88 MB), the
        // store and its 16 MiB reserve fit; a second model never does.
        using var disk = TmpfsMount.Create(megabytes: 128);
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port, configure: o => o with { DataDirectory = Path.Combine(disk.Path, "data") });
        var agent = await harness.StartAsync();
        var images = SampleImages.FirstFiveClasses(perClass: 2, seed: 5);
        TestClient.AssertStatus(await SendAsync(cloud, "deploy", Url(packages.Sign(packages.First, "full-v1", counter: 1))), "ok");
        for (int i = 0; i < 5; i++)
            TestClient.AssertStatus(await SendAsync(cloud, "ingest", SampleImages.IngestArgs(images, i, labelled: true, domain: "source")), "ok");
        string nextModel = Url(packages.Sign(packages.Second, "full-v2", counter: 2))["url"]!.GetValue<string>();   // needs ~45 MB more

        long filler = disk.Fill();
        output.WriteLine($"filler {filler / 1e6:F1} MB; {disk.FreeBytes} bytes free");
        var clock = Stopwatch.StartNew();

        var status = TestClient.AssertStatus(await SendAsync(cloud, "status"), "ok");
        Assert.Equal(1, status["data"]!["model"]!["counter"]!.GetValue<long>());
        Assert.Equal(5, status["data"]!["samples"]!.GetValue<int>());
        AssertStorageFull(await SendAsync(cloud, "ingest", SampleImages.IngestArgs(images, 5, labelled: true, domain: "source")), "ingest");
        AssertStorageFull(await SendAsync(cloud, "label", new JsonObject { ["sampleId"] = 1, ["label"] = images.ClassNames[images.Labels[1]] }), "label");
        AssertStorageFull(await SendAsync(cloud, "finetune", new JsonObject { ["epochs"] = 3 }), "finetune");
        AssertStorageFull(await SendAsync(cloud, "deploy", new JsonObject { ["url"] = nextModel }), "deploy");
        status = TestClient.AssertStatus(await SendAsync(cloud, "status"), "ok");
        Assert.Equal(5, status["data"]!["samples"]!.GetValue<int>());
        Assert.Equal(1, agent.Server.Counter);
        Assert.Null(agent.Server.Head);
        output.WriteLine($"full: status answered twice, 4 jobs refused in {clock.Elapsed.TotalSeconds:F1} s");


        // Nearly full: the command is recorded (the store's reserve is still free), but the package
        // does not fit; the half-copied model is removed.
        disk.Free();
        disk.Fill(leaveFreeBytes: AgentStore.DefaultReserveBytes + (4 << 20));
        var nearlyFull = await SendAsync(cloud, "deploy", new JsonObject { ["url"] = nextModel });
        AssertStorageFull(nearlyFull, "deploy on a nearly full disk");
        Assert.Equal("Failed", nearlyFull["data"]!["status"]!.GetValue<string>());
        Assert.Empty(Directory.GetDirectories(Path.Combine(disk.Path, "data", "models"), ".staging-*"));
        Assert.Equal(1, agent.Server.Counter);

        disk.Free();
        var stored = TestClient.AssertStatus(await SendAsync(cloud, "ingest", SampleImages.IngestArgs(images, 6, labelled: false, domain: "target")), "ok");
        long sampleId = stored["data"]!["sampleId"]!.GetValue<long>();
        await TestClient.WaitAsync(() => cloud.Metrics("prediction").FirstOrDefault(m => m["data"]!["sampleId"]!.GetValue<long>() == sampleId), Wait, "the prediction metric of the new sample");
        TestClient.AssertStatus(await SendAsync(cloud, "label", new JsonObject { ["sampleId"] = sampleId, ["label"] = images.ClassNames[images.Labels[6]] }), "ok");
        status = TestClient.AssertStatus(await SendAsync(cloud, "status"), "ok");
        Assert.Equal(6, status["data"]!["samples"]!.GetValue<int>());
        Assert.Equal(6, status["data"]!["labelled"]!.AsObject().Sum(kv => kv.Value!.GetValue<int>()));
        TestClient.AssertStatus(await SendAsync(cloud, "finetune", new JsonObject { ["epochs"] = 5 }), "ok");
        Assert.NotNull(agent.Server.Head);
        output.WriteLine($"recovered: ingest, label and finetune succeed; {clock.Elapsed.TotalSeconds:F1} s after the disk filled");

        // Everything acknowledged survives a restart on the same files (the log holds no half-written transaction).
        agent = await harness.RestartAsync();
        status = TestClient.AssertStatus(await SendAsync(cloud, "status"), "ok");
        Assert.Equal(6, status["data"]!["samples"]!.GetValue<int>());
        Assert.Equal(6, status["data"]!["labelled"]!.AsObject().Sum(kv => kv.Value!.GetValue<int>()));
        Assert.NotNull(status["data"]!["head"]);
        Assert.Equal(1, agent.Server.Counter);

        // What the failed writes left behind must not take the process down later: LiteDB's
        // transactions have finalizers that throw on an engine closed by an I/O error.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static void AssertStorageFull(JsonObject result, string what)
    {
        TestClient.AssertStatus(result, "failed");
        Assert.True(result["data"]?["code"]?.GetValue<string>() == "StorageFull", $"{what}: {result.ToJsonString()}");
    }

    private static async Task<JsonObject> SendAsync(TestClient cloud, string name, JsonObject? args = null) =>
        await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", name, args), Wait);

    private static JsonObject Url(string path) => new() { ["url"] = new Uri(path).AbsoluteUri };
}
