using System.Text.Json.Nodes;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Deployment;
using Xunit.Abstractions;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>
/// Drift end to end: a head serves Fashion-MNIST; then the same garments arrive with inverted
/// intensities (a real shift). The agent must publish a drift event, run an adaptation job by
/// itself, and publish whether it promoted the adapted head or kept the old one, with the promotion guard's check.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class DriftAdaptationTests(DeploymentPackages packages, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    /// <summary>An adaptation job takes ~40 s on an idle 2-core machine, and several times that while the other test projects run beside it.</summary>
    private static readonly TimeSpan AdaptationWait = TimeSpan.FromSeconds(360);

    [Fact]
    public async Task Injected_drift_publishes_an_event_runs_an_adaptation_job_and_reports_promote_or_rollback()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port);
        var agent = await harness.StartAsync();
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy",
            new JsonObject { ["url"] = new Uri(packages.Sign(packages.First, "drift-v1", counter: 1)).AbsoluteUri }), Wait), "ok");
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "set-config", new JsonObject
        {
            ["coldStartShots"] = 16,
            ["drift"] = new JsonObject { ["windowSize"] = 40, ["alpha"] = 0.01, ["autoAdapt"] = true, ["method"] = "mmd", ["adaptSteps"] = 150 },
        }), Wait), "ok");

        // Labelled source samples: cold start fits the first head by itself once 16 per class are in.
        var source = SampleImages.FirstFiveClasses(perClass: 16, seed: 2);
        for (int i = 0; i < source.Count; i++)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(source, i, labelled: true, domain: "source")), Wait), "ok");
        var coldStart = await TestClient.WaitAsync(() => cloud.Metrics("coldstart") is [var c, ..] ? c : null, Wait, "the cold-start report");
        output.WriteLine($"cold start: {coldStart["data"]!.ToJsonString()}");
        Assert.True(coldStart["data"]!["secondsFromDeploymentToFirstModel"]!.GetValue<double>() > 0);
        await agent.Jobs.WaitIdleAsync();

        // In-distribution traffic: no drift.
        var calm = SampleImages.FirstFiveClasses(perClass: 8, seed: 3);
        for (int i = 0; i < calm.Count; i++)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(calm, i, labelled: false, domain: "target")), Wait), "ok");
        var first = await TestClient.WaitAsync(() => cloud.Metrics("drift") is [var d, ..] ? d : null, Wait, "the first drift report");
        output.WriteLine($"in-distribution window: {first["data"]!.ToJsonString()}");
        Assert.False(first["data"]!["drift"]!.GetValue<bool>());

        // The shift: the same kind of garments, intensities inverted.
        var shifted = SampleImages.Inverted(SampleImages.FirstFiveClasses(perClass: 8, seed: 4));
        for (int i = 0; i < shifted.Count; i++)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(shifted, i, labelled: false, domain: "target")), Wait), "ok");
        var drift = await TestClient.WaitAsync(() => cloud.Metrics("drift") is { Count: >= 2 } m ? m[1] : null, Wait, "the drift event");
        output.WriteLine($"shifted window: {drift["data"]!.ToJsonString()}");
        Assert.True(drift["data"]!["drift"]!.GetValue<bool>());
        Assert.Equal("adapting", drift["data"]!["action"]!.GetValue<string>());

        JsonObject adaptation;
        try
        {
            adaptation = await TestClient.WaitAsync(() => cloud.Metrics("adaptation") is [var a, ..] ? a : null, AdaptationWait, "the adaptation outcome");
        }
        catch (TimeoutException)
        {
            output.WriteLine("agent log:\n" + string.Join("\n", harness.Log.Lines.TakeLast(30)));
            throw;
        }
        output.WriteLine($"adaptation: {adaptation["data"]!.ToJsonString()}");
        var outcome = adaptation["data"]!["outcome"]!.GetValue<string>();
        Assert.True(outcome is "promoted" or "rolled-back", outcome);
        // MMD² is estimated without bias, so a near-zero value can come out slightly negative.
        double mmd2Before = adaptation["data"]!["mmd2Before"]!.GetValue<double>(), mmd2After = adaptation["data"]!["mmd2After"]!.GetValue<double>();
        Assert.True(double.IsFinite(mmd2After) && mmd2After > -0.05, $"MMD² after {mmd2After}");
        if (outcome == "promoted")
            Assert.True(mmd2After < mmd2Before, $"promoted although MMD² went from {mmd2Before} to {mmd2After}");
        // Every outcome carries the promotion guard's check; a promotion needs both the negative-transfer guard and the promotion guard.
        var guard = adaptation["data"]!["guard"]!;
        Assert.True(guard["test"]!.GetValue<string>() is "discordant-pairs" or "label-free", guard.ToJsonString());
        Assert.Contains($"n = {guard["comparedOn"]!.GetValue<int>()}", guard["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        bool passed = guard["promoted"]!.GetValue<bool>() && adaptation["data"]!["kept"]!.GetValue<string>() == "adapted";
        Assert.Equal(passed, outcome == "promoted");
        if (outcome == "promoted")
            Assert.Equal("adapted", agent.Server.Head!.Record.Kind);
        else
            Assert.Equal("head", agent.Server.Head!.Record.Kind);
    }
}
