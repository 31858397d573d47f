using System.Text.Json.Nodes;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Deployment;
using Xunit.Abstractions;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>
/// The promotion guard on the user's path: <c>finetune</c> commands over MQTT to a running agent.
/// The first head is served without comparison and says so; a second fine-tune with too few
/// holdout samples is answered not promoted, naming n, and the first head keeps serving.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class PromotionGuardFlowTests(DeploymentPackages packages, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_finetune_with_too_few_holdout_samples_is_answered_not_promoted_naming_n()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port, configure: o => o with { ColdStartShots = 10_000 });
        var agent = await harness.StartAsync();
        TestClient.AssertStatus(await SendAsync(cloud, "deploy", new JsonObject { ["url"] = new Uri(packages.Sign(packages.First, $"guard-{Guid.NewGuid():N}", counter: 1)).AbsoluteUri }), "ok");
        var images = SampleImages.FirstFiveClasses(perClass: 8, seed: 6);
        for (int i = 0; i < images.Count; i++)
            agent.Ingest(SampleImages.Png(images, i), images.ClassNames[images.Labels[i]], "source", "test");
        int held = agent.Store.Samples.Labelled().Count(s => HoldoutSplit.IsHoldout(s.Id));
        Assert.InRange(held, 1, 19);   // 40 labelled samples: about 11 of them are the holdout

        // No device head serves yet: the first one serves without comparison, and its report says so.
        var first = TestClient.AssertStatus(await SendAsync(cloud, "finetune", new JsonObject { ["epochs"] = 10 }), "ok");
        var firstData = first["data"]!;
        Assert.Equal(0, firstData["comparedOn"]!.GetValue<int>());
        Assert.Equal("first-head", firstData["guard"]!["test"]!.GetValue<string>());
        Assert.Contains("not a promotion over a serving model (comparedOn: 0)", firstData["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(held, firstData["holdoutSamples"]!.GetValue<int>());
        Assert.Equal(40 - held, firstData["trainSamples"]!.GetValue<int>());
        long serving = agent.Server.Head!.Record.Id;

        // A second fine-tune is compared with it on the holdout, which is too small.
        var second = await SendAsync(cloud, "finetune", new JsonObject { ["epochs"] = 10 });

        TestClient.AssertStatus(second, "failed");
        string reason = $"not promoted: too few holdout samples (n = {held} < MinHoldout 20)";
        Assert.Equal($"Not promoted: too few holdout samples (n = {held} < MinHoldout 20). The serving head stays.", second["message"]!.GetValue<string>());
        var data = second["data"]!;
        Assert.False(data["promoted"]!.GetValue<bool>());
        Assert.Equal((held, reason), (data["comparedOn"]!.GetValue<int>(), data["reason"]!.GetValue<string>()));
        var guard = data["guard"]!;
        Assert.Equal(("discordant-pairs", held, 20, 0.02), (guard["test"]!.GetValue<string>(), guard["comparedOn"]!.GetValue<int>(),
            guard["minHoldout"]!.GetValue<int>(), guard["tolerance"]!.GetValue<double>()));
        Assert.NotNull(data["candidateAccuracy"]);
        Assert.NotNull(data["baselineAccuracy"]);
        Assert.Equal(serving, agent.Server.Head!.Record.Id);
        var outcome = await TestClient.WaitAsync(() => cloud.Metrics("training-outcome").LastOrDefault(m => m["data"]!["promoted"]!.GetValue<bool>() == false), Wait, "the refused training outcome");
        Assert.Equal(reason, outcome["data"]!["guard"]!["reason"]!.GetValue<string>());
        output.WriteLine($"first head: {firstData["reason"]}; second fine-tune: {second["message"]}");
    }

    /// <summary>
    /// With label-free promotion switched off, an adaptation is judged on labelled target samples only:
    /// every one the serving head never trained on (the holdout, and the train part newer than its training
    /// samples; the candidate reads no target label and aligns to the other images). Labelled target
    /// samples the fine-tune trained on do not judge it. With a few judging rows it is rolled back, and
    /// the guard's reason names n.
    /// </summary>
    [Fact]
    public async Task Without_label_free_promotion_an_adaptation_on_few_labelled_target_samples_is_rolled_back_naming_n()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port, configure: o => o with { ColdStartShots = 10_000, AllowLabelFreePromotion = false });
        var agent = await harness.StartAsync();
        TestClient.AssertStatus(await SendAsync(cloud, "deploy", new JsonObject { ["url"] = new Uri(packages.Sign(packages.First, $"guard-{Guid.NewGuid():N}", counter: 1)).AbsoluteUri }), "ok");
        var source = SampleImages.FirstFiveClasses(perClass: 8, seed: 8);
        for (int i = 0; i < source.Count; i++)
            agent.Ingest(SampleImages.Png(source, i), source.ClassNames[source.Labels[i]], "source", "test");
        // Labelled target samples before the fine-tune: it trains on their train part, so those may not judge the adaptation.
        var early = SampleImages.Inverted(SampleImages.FirstFiveClasses(perClass: 3, seed: 10));
        for (int i = 0; i < early.Count; i++)
            agent.Ingest(SampleImages.Png(early, i), early.ClassNames[early.Labels[i]], "target", "test");
        var trainedOn = agent.Store.Samples.Labelled("target").Where(s => !HoldoutSplit.IsHoldout(s.Id)).Select(s => s.Id).ToHashSet();
        Assert.NotEmpty(trainedOn);
        TestClient.AssertStatus(await SendAsync(cloud, "finetune", new JsonObject { ["epochs"] = 10 }), "ok");
        long serving = agent.Server.Head!.Record.Id;
        var target = SampleImages.Inverted(SampleImages.FirstFiveClasses(perClass: 4, seed: 9));
        for (int i = 0; i < target.Count; i++)
            agent.Ingest(SampleImages.Png(target, i), i % 2 == 0 ? target.ClassNames[target.Labels[i]] : null, "target", "test");
        int held = agent.Store.Samples.Labelled("target").Count(s => HoldoutSplit.IsHoldout(s.Id));
        int labelled = agent.Store.Samples.Labelled("target").Count(s => !trainedOn.Contains(s.Id));   // the holdout, and the newer labels
        Assert.True(held < labelled, $"the test needs labelled target samples outside the holdout ({held} of {labelled} are in it)");

        var result = await SendAsync(cloud, "adapt", new JsonObject { ["method"] = "mmd", ["steps"] = 30 });

        TestClient.AssertStatus(result, "failed");
        var data = result["data"]!;
        Assert.Equal("rolled-back", data["outcome"]!.GetValue<string>());
        var guard = data["guard"]!;
        Assert.Equal(("discordant-pairs", labelled, false), (guard["test"]!.GetValue<string>(), guard["comparedOn"]!.GetValue<int>(), guard["promoted"]!.GetValue<bool>()));
        Assert.Equal($"not promoted: too few holdout samples (n = {labelled} < MinHoldout 20)", guard["reason"]!.GetValue<string>());
        // Aligned to the unlabelled images and to the labelled ones the fine-tune trained on, never to a judging one.
        Assert.Equal(target.Count / 2 + trainedOn.Count, data["targetSamples"]!.GetValue<int>());
        Assert.Equal(serving, agent.Server.Head!.Record.Id);
        output.WriteLine($"adaptation judged on {labelled} labelled target samples ({held} of them in the holdout): {result["message"]}");
    }

    private static async Task<JsonObject> SendAsync(TestClient cloud, string name, JsonObject? args = null) =>
        await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", name, args), Wait);
}
