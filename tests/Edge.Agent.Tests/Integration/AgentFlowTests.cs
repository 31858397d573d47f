using System.Text.Json.Nodes;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Deployment;
using Xunit.Abstractions;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>
/// The whole device loop over a real broker, checked by an independent subscriber: deploy a
/// signed package → ingest labelled samples → head-only fine-tune → predict → metrics received.
/// Once against the in-process MQTTnet broker, once against a real mosquitto.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class AgentFlowTests(DeploymentPackages packages, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData("embedded")]
    [InlineData("mosquitto")]
    public async Task Deploy_ingest_finetune_predict_and_metrics_reach_an_independent_subscriber(string broker)
    {
        await using var embedded = broker == "embedded" ? await EmbeddedBroker.StartAsync() : null;
        using var mosquitto = broker == "mosquitto" ? new MosquittoBroker() : null;
        int port = embedded?.Port ?? mosquitto!.Port;
        await using var cloud = await TestClient.ConnectAsync(port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, port);
        await harness.StartAsync();

        string package = packages.Sign(packages.First, $"flow-{broker}", counter: 1);
        var deployed = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy", new JsonObject { ["url"] = new Uri(package).AbsoluteUri }), Wait);
        TestClient.AssertStatus(deployed, "ok");
        Assert.Equal("accepted", cloud.Results(deployed["id"]!.GetValue<string>())[0]["status"]!.GetValue<string>());

        // Labelled samples of the package's five classes; cold start is set high so the fine-tune is the command's.
        await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "set-config", new JsonObject { ["coldStartShots"] = 1000 }), Wait);
        var train = SampleImages.FirstFiveClasses(perClass: 24, seed: 1);
        for (int i = 0; i < train.Count; i++)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(train, i, labelled: true, domain: "source")), Wait), "ok");

        var tuned = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["mode"] = "head-only", ["epochs"] = 25, ["lr"] = 0.001 }), Wait);
        TestClient.AssertStatus(tuned, "ok");
        var data = tuned["data"]!.AsObject();
        double accuracy = data["accuracy"]!.GetValue<double>();
        output.WriteLine($"{broker}: head-only fine-tune on {data["trainSamples"]} samples, holdout {data["holdoutSamples"]}: accuracy {accuracy:P1}");
        Assert.Equal("holdout", data["accuracyOn"]!.GetValue<string>());
        Assert.True(accuracy > 0.4, $"holdout accuracy {accuracy:P1} should be well above chance (20%)");

        var test = SampleImages.FirstFiveClasses(perClass: 4, seed: 99);
        int correct = 0;
        for (int i = 0; i < test.Count; i++)
        {
            var predicted = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "predict", new JsonObject { ["image"] = Convert.ToBase64String(SampleImages.Png(test, i)) }), Wait);
            TestClient.AssertStatus(predicted, "ok");
            Assert.Equal(data["headId"]!.GetValue<long>(), predicted["data"]!["headId"]!.GetValue<long>());
            if (predicted["data"]!["label"]!.GetValue<string>() == test.ClassNames[test.Labels[i]])
                correct++;
        }
        output.WriteLine($"{broker}: predict over MQTT, {correct}/{test.Count} correct");
        Assert.True(correct > test.Count / 5, "predictions should beat chance");

        // What the independent subscriber saw: throttled progress (the first and the last epoch, in
        // order), the outcome with the whole curve, and the retained state.
        var epochs = await TestClient.WaitAsync(() => cloud.Metrics("training") is { Count: >= 2 } m && m[^1]["data"]!["epoch"]!.GetValue<int>() == 24 ? m : null, Wait, "the last epoch's progress");
        var numbers = epochs.Select(m => m["data"]!["epoch"]!.GetValue<int>()).ToList();
        Assert.Equal(0, numbers[0]);
        Assert.Equal(numbers.Order(), numbers);
        var seqs = epochs.Select(m => m["seq"]!.GetValue<long>()).ToList();
        Assert.Equal(seqs.Order(), seqs);
        var outcome = await TestClient.WaitAsync(() => cloud.Metrics("training-outcome") is [var first, ..] ? first : null, Wait, "the training outcome");
        Assert.Equal(accuracy, outcome["data"]!["accuracy"]!.GetValue<double>());
        Assert.Equal(Enumerable.Range(0, 25), outcome["data"]!["curve"]!.AsArray().Select(p => p!["epoch"]!.GetValue<int>()));
        var state = await TestClient.WaitAsync(() => cloud.Received.LastOrDefault(m => m.Topic == "edgetl/test/dev1/state" && m.Payload.Contains("\"head\":{", StringComparison.Ordinal)), Wait, "a retained state with the head");
        Assert.Equal(1, state.Json["model"]!["counter"]!.GetValue<long>());
    }
}
