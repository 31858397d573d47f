using EdgeTL.Agent.Tests.Integration;
using Xunit.Abstractions;

namespace EdgeTL.Demo.Tests;

/// <summary>
/// The README's demo, shortened (1 pretraining epoch, fewer samples): it completes, writes its
/// pictures, and every device number of its summary equals what an independent MQTT subscriber
/// received from the agent.
/// </summary>
public sealed class DemoTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-demo-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task The_demo_completes_writes_its_pictures_and_its_summary_matches_what_the_agent_published()
    {
        TestClient? subscriber = null;
        var log = new StringWriter();
        var runner = new DemoRunner(new DemoOptions
        {
            OutputDirectory = _dir,
            PretrainEpochs = 1,
            PretrainImagesPerClass = 150,
            FinetunePerClass = 10,
            TestPerClass = 4,
            DriftWindow = 40,
            ShiftedLabelsPerClass = 4,
        }, log)
        {
            BrokerStarted = async port => subscriber = await TestClient.ConnectAsync(port, "demo", "jetson-demo", "observer"),
        };

        var summary = await runner.RunAsync();
        output.WriteLine(log.ToString());
        await using var observer = subscriber!;

        foreach (var png in new[] { "finetune-curves.png", "tsne-before-adaptation.png", "tsne-after-adaptation.png", "shift-localization.png", "surgical-curves.png" })
            Assert.True(new FileInfo(Path.Combine(_dir, png)).Length > 10_000, $"{png} was not written");
        var coldStart = observer.Metrics("coldstart").Single()["data"]!;
        Assert.Equal(summary.SecondsToFirstModel, coldStart["secondsFromDeploymentToFirstModel"]!.GetValue<double>());
        Assert.StartsWith("head-only fit", coldStart["method"]!.GetValue<string>(), StringComparison.Ordinal);
        var adaptation = observer.Metrics("adaptation").Single()["data"]!;
        Assert.Equal(summary.Mmd2Before, adaptation["mmd2Before"]!.GetValue<double>());
        Assert.Equal(summary.Mmd2After, adaptation["mmd2After"]!.GetValue<double>());
        Assert.Equal(summary.TransferGain, adaptation["transferGain"]!.GetValue<double>());
        Assert.Equal(summary.AdaptationOutcome, adaptation["outcome"]!.GetValue<string>());
        var drift = observer.Metrics("drift").First(m => m["data"]!["drift"]!.GetValue<bool>())["data"]!;
        Assert.Equal(summary.DriftPValue, drift["pValue"]!.GetValue<double>());
        // Accuracies are counted from the agent's answers to predict commands, which the observer saw too.
        int predictions = observer.Received.Count(m => m.Topic.Contains("/result/demo-predict-", StringComparison.Ordinal));
        Assert.Equal(7 * 5 * 4, predictions);   // seven accuracy figures × 20 held-out images
        var progressive = observer.Metrics("training-outcome").Select(m => m["data"]!).Single(d => d["mode"]!.GetValue<string>() == "progressive");
        Assert.Equal(summary.ProgressiveOutcome == "promoted", progressive["promoted"]!.GetValue<bool>());
        Assert.Equal(3, progressive["backbone"]!["trainedGroups"]!.AsArray().Count);   // head, stage4, stage3
        // The injected inversion is localized as an input-level shift, adapted label-free (bn), then tuned surgically with labels.
        Assert.Equal("input", adaptation["shift"]!["level"]!.GetValue<string>());
        Assert.Equal("bn", summary.LabelFreeMethod);
        Assert.StartsWith("input-level shift: peaks in ", summary.ShiftLocalization, StringComparison.Ordinal);
        var surgical = observer.Metrics("training-outcome").Select(m => m["data"]!).Single(d => d["mode"]!.GetValue<string>() == "surgical");
        Assert.Equal(["head", "stem", "stage1"], surgical["backbone"]!["trainedGroups"]!.AsArray().Select(g => g!.GetValue<string>()));
        Assert.Contains($"n = {surgical["guard"]!["comparedOn"]}", summary.SurgicalOutcome, StringComparison.Ordinal);
        bool anyPromoted = surgical["promoted"]!.GetValue<bool>() || adaptation["outcome"]!.GetValue<string>() == "promoted";
        Assert.Equal(anyPromoted, summary.SecondsFromDriftToPromotion is > 0);
        Assert.True(summary.FinetunedAccuracy > 0.2, $"fine-tuned accuracy {summary.FinetunedAccuracy:P1} should beat chance");
    }
}
