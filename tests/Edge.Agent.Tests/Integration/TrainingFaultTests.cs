using System.Text.Json.Nodes;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Deployment;
using EdgeTL.Trainer;
using Xunit.Abstractions;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>
/// RELIABILITY R8: a non-finite loss, an absurd learning rate and shuffled labels are caught
/// (within one step for a blow-up, by the promotion guard for a worse head), reported, and the
/// serving head stays and keeps predicting.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class TrainingFaultTests(DeploymentPackages packages, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Poisoned features (what a broken backbone or a corrupt cache would hand the head fit) stop the
    /// fit at its first step, before anything is applied: NaN or infinity in the input as
    /// NonFiniteInput; finite values so large that the logits overflow as NonFiniteLoss.
    /// </summary>
    [Theory]
    [InlineData(float.NaN, TrainerErrorCode.NonFiniteInput)]
    [InlineData(float.PositiveInfinity, TrainerErrorCode.NonFiniteInput)]
    [InlineData(3e38f, TrainerErrorCode.NonFiniteLoss)]
    public void A_poisoned_feature_stops_the_head_fit_at_its_first_step(float poison, TrainerErrorCode expected)
    {
        var random = new Random(3);
        var features = new float[20 * 8];
        for (int i = 0; i < features.Length; i++)
            features[i] = (float)random.NextDouble();
        for (int d = 0; d < 8; d++)
            features[5 * 8 + d] = poison;
        var set = new LabelledFeatures(features, [.. Enumerable.Range(0, 20).Select(i => i % 2)], 8, ["a", "b"], [.. Enumerable.Range(1, 20).Select(i => (long)i)]);
        var epochs = new List<int>();

        var error = Assert.Throws<EdgeTrainerException>(() => HeadFitting.Fit(set, new FinetuneSettings { Epochs = 5 }, new SyncProgressRecorder(epochs)));

        Assert.Equal(expected, error.Code);
        Assert.Empty(epochs);   // not one epoch (here: one step) completed
        if (expected == TrainerErrorCode.NonFiniteLoss)
            Assert.Contains("at epoch 0, step 0; the step was not applied", error.Message, StringComparison.Ordinal);
    }

    private sealed class SyncProgressRecorder(List<int> epochs) : IProgress<Trainer.Training.EpochMetrics>
    {
        public void Report(Trainer.Training.EpochMetrics value) => epochs.Add(value.Epoch);
    }

    [Fact]
    public async Task An_absurd_learning_rate_is_refused_or_caught_within_one_step_and_the_serving_head_stays()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port, configure: o => o with { ColdStartShots = 10_000 });
        var agent = await StartWithGoodHeadAsync(harness, cloud);
        long good = agent.Server.Head!.Record.Id;

        var refused = await SendAsync(cloud, "finetune", new JsonObject { ["lr"] = 1000 });
        TestClient.AssertStatus(refused, "invalidArguments");
        Assert.Contains("args.lr must be between", refused["message"]!.GetValue<string>(), StringComparison.Ordinal);

        // The largest rate the command allows: the head trains at 10 × 1 with AdamW and blows up at once.
        string id = await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["lr"] = 1.0, ["epochs"] = 30, ["schedule"] = "constant" });
        var diverged = await cloud.FinalResultAsync(id, Wait);
        TestClient.AssertStatus(diverged, "failed");
        Assert.Equal("Diverged", diverged["data"]!["code"]!.GetValue<string>());
        var outcome = await TestClient.WaitAsync(() => cloud.Metrics("training-outcome").LastOrDefault(m => m["data"]!["code"] is not null), Wait, "the diverged training outcome");
        Assert.False(outcome["data"]!["promoted"]!.GetValue<bool>());
        int epochs = outcome["data"]!["curve"]!.AsArray().Count;   // every epoch that completed, in the run's own record
        Assert.True(epochs <= 1, $"{epochs} epochs (one step each) ran before the blow-up was caught");
        Assert.Equal(good, agent.Server.Head!.Record.Id);
        await AssertServesHeadAsync(cloud, good);
        output.WriteLine($"lr 1000 refused; lr 1 caught after {epochs} applied step(s): {diverged["message"]}");
    }

    [Fact]
    public async Task A_head_trained_on_shuffled_labels_is_not_promoted_over_a_good_serving_head()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port, configure: o => o with { ColdStartShots = 10_000 });
        var agent = await StartWithGoodHeadAsync(harness, cloud);
        long good = agent.Server.Head!.Record.Id;
        // New, correctly labelled samples arrive; then a labelling bug shuffles the labels of the 50 older ones.
        var fresh = SampleImages.FirstFiveClasses(perClass: 8, seed: 2);
        for (int i = 0; i < fresh.Count; i++)
            agent.Ingest(SampleImages.Png(fresh, i), fresh.ClassNames[fresh.Labels[i]], "source", "test");
        var old = agent.Store.Samples.Labelled().Take(50).ToList();
        var shuffled = old.Select(s => s.Label!).ToArray();
        new Random(11).Shuffle(shuffled);
        for (int i = 0; i < old.Count; i++)
            TestClient.AssertStatus(await SendAsync(cloud, "label", new JsonObject { ["sampleId"] = old[i].Id, ["label"] = shuffled[i] }), "ok");
        int wrong = agent.Store.Samples.Labelled().Take(50).Zip(old).Count(p => p.First.Label != p.Second.Label);

        var result = await SendAsync(cloud, "finetune", new JsonObject { ["epochs"] = 30 });

        TestClient.AssertStatus(result, "failed");
        var data = result["data"]!;
        Assert.StartsWith("Not promoted", result["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(data["promoted"]!.GetValue<bool>());
        double candidate = data["candidateAccuracy"]!.GetValue<double>(), baseline = data["baselineAccuracy"]!.GetValue<double>();
        Assert.True(candidate < baseline - 0.01, $"candidate {candidate} vs baseline {baseline}");
        // Refused by the paired test, not for want of rows: at least MinHoldout holdout samples, and a bound below −2 points.
        Assert.True(data["comparedOn"]!.GetValue<int>() >= 20, data.ToJsonString());
        Assert.True(data["lowerBound"]!.GetValue<double>() < -0.02, data.ToJsonString());
        Assert.Equal(good, agent.Server.Head!.Record.Id);
        var outcome = await TestClient.WaitAsync(() => cloud.Metrics("training-outcome").LastOrDefault(m => m["data"]!["promoted"]!.GetValue<bool>() == false), Wait, "the refused training outcome");
        Assert.Equal(candidate, outcome["data"]!["candidateAccuracy"]!.GetValue<double>());
        await AssertServesHeadAsync(cloud, good);
        output.WriteLine($"{wrong} of 50 labels wrong after the shuffle; candidate {candidate:P1} vs serving {baseline:P1} on {data["comparedOn"]} holdout samples, lower bound {data["lowerBound"]}: not promoted");
    }

    /// <summary>Deploys the first package, ingests 50 labelled images (10 per class) and fine-tunes the good head that serves from then on.</summary>
    private async Task<EdgeAgent> StartWithGoodHeadAsync(AgentHarness harness, TestClient cloud)
    {
        var agent = await harness.StartAsync();
        TestClient.AssertStatus(await SendAsync(cloud, "deploy", new JsonObject { ["url"] = new Uri(packages.Sign(packages.First, $"r8-{Guid.NewGuid():N}", counter: 1)).AbsoluteUri }), "ok");
        var train = SampleImages.FirstFiveClasses(perClass: 10, seed: 1);
        for (int i = 0; i < train.Count; i++)
            agent.Ingest(SampleImages.Png(train, i), train.ClassNames[train.Labels[i]], "source", "test");
        TestClient.AssertStatus(await SendAsync(cloud, "finetune", new JsonObject { ["epochs"] = 30 }), "ok");
        Assert.NotNull(agent.Server.Head);
        return agent;
    }

    private static async Task AssertServesHeadAsync(TestClient cloud, long headId)
    {
        var test = SampleImages.FirstFiveClasses(perClass: 1, seed: 99);
        var prediction = TestClient.AssertStatus(await SendAsync(cloud, "predict", new JsonObject { ["image"] = Convert.ToBase64String(SampleImages.Png(test, 0)) }), "ok");
        Assert.Equal(headId, prediction["data"]!["headId"]!.GetValue<long>());
        Assert.InRange(prediction["data"]!["confidence"]!.GetValue<double>(), 0.2, 1.0);
    }

    private static async Task<JsonObject> SendAsync(TestClient cloud, string name, JsonObject? args = null) =>
        await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", name, args), Wait);
}
