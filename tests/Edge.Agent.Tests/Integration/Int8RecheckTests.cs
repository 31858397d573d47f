using System.Text.Json.Nodes;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Deployment;
using Xunit.Abstractions;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>
/// A package with an int8 backbone deployed over MQTT to a fresh device: its two golden inputs are too few rows for the int8 gate
/// (MinHoldout 20), so fp32 serves and says why. Images then stream in over MQTT; one short of the rows the gate needs nothing
/// changes, and with the twentieth the device checks again by itself and serves int8, which <c>status</c> and <c>predict</c> show.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class Int8RecheckTests(DeploymentPackages packages, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_fresh_device_serves_fp32_until_enough_images_arrive_then_checks_int8_again_by_itself()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port);
        await harness.StartAsync();
        string package = packages.Sign(packages.WithInt8("recheck", budgetPoints: 100), "int8-recheck", counter: 1);

        var deployed = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy", new JsonObject { ["url"] = new Uri(package).AbsoluteUri }), Wait);
        TestClient.AssertStatus(deployed, "ok");
        var atDeploy = deployed["data"]!["precision"]!;
        output.WriteLine($"at deploy: {atDeploy["reason"]}");
        Assert.Equal(("fp32", "agreement"), (atDeploy["served"]!.GetValue<string>(), atDeploy["test"]!.GetValue<string>()));
        int golden = atDeploy["n"]!.GetValue<int>();
        Assert.True(golden < 20, $"{golden} golden rows");
        Assert.Contains("too few samples", atDeploy["reason"]!.GetValue<string>(), StringComparison.Ordinal);

        // One image short of the 20 rows: still fp32, nothing checked.
        var images = SampleImages.FirstFiveClasses(perClass: 6, seed: 17);
        int shortOfRows = 20 - golden - 1;
        for (int i = 0; i < shortOfRows; i++)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(images, i, labelled: false, domain: "line")), Wait), "ok");
        var waiting = await ModelAsync(cloud);
        Assert.Equal("fp32", waiting["precision"]!.GetValue<string>());
        Assert.Contains("too few samples", waiting["precisionReason"]!.GetValue<string>(), StringComparison.Ordinal);

        // The twentieth row: the device checks again and serves int8.
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(images, shortOfRows, labelled: false, domain: "line")), Wait), "ok");
        JsonNode model = waiting;
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < Wait && model["precision"]!.GetValue<string>() != "int8"; await Task.Delay(250))
            model = await ModelAsync(cloud);
        string reason = model["precisionReason"]!.GetValue<string>();
        output.WriteLine($"after {golden + shortOfRows + 1} rows: {reason}");
        Assert.Equal("int8", model["precision"]!.GetValue<string>());
        Assert.Contains("n = 20 golden inputs and recent images", reason, StringComparison.Ordinal);

        var predicted = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "predict", new JsonObject { ["image"] = Convert.ToBase64String(SampleImages.Png(images, 0)) }), Wait);
        TestClient.AssertStatus(predicted, "ok");

        // Decided: more images start no further check.
        for (int i = shortOfRows + 1; i < shortOfRows + 6; i++)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(images, i, labelled: false, domain: "line")), Wait), "ok");
        await harness.Agent.Jobs.WaitIdleAsync();
        Assert.Single(harness.Log.Lines, line => line.Contains("checked again now that the device has enough samples", StringComparison.Ordinal));
        Assert.Empty(cloud.SchemaViolations);
    }

    private static async Task<JsonNode> ModelAsync(TestClient cloud)
    {
        var status = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "status"), Wait);
        TestClient.AssertStatus(status, "ok");
        return status["data"]!["model"]!;
    }
}
