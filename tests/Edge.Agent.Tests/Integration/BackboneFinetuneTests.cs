using System.Text.Json.Nodes;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Deployment;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer.Interop.Onnx;
using Xunit.Abstractions;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>
/// <c>finetune</c> with a backbone mode, sent over MQTT to a running agent serving a real signed
/// ResNet-18 package (32 px): the groups of the mode train and every other group's weights and
/// BatchNorm statistics stay bitwise as shipped (read back from the installed ONNX files), the export
/// matches the module, <c>predict</c> then runs the device-made version, <c>rollback</c> returns to the
/// package, and a new cloud package replaces the device-made version.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class BackboneFinetuneTests(DeploymentPackages packages, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(240);

    [Fact]
    public async Task Progressive_trains_stage4_then_stage3_serves_the_new_backbone_across_a_restart_and_rolls_back_to_the_package()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port, configure: LaxGuard);
        await harness.StartAsync();
        await DeployAndIngestAsync(cloud, packages.Sign(packages.First, "backbone-progressive", counter: 1));
        var probe = SampleImages.FirstFiveClasses(perClass: 1, seed: 77);
        var before = await PredictAsync(cloud, probe, 0);

        var tuned = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["mode"] = "progressive", ["epochs"] = 6, ["lr"] = 0.001 }), Wait);
        var data = Report(tuned, "progressive");
        var backbone = data["backbone"]!;
        Assert.Equal(["head", "stage4", "stage3"], backbone["trainedGroups"]!.AsArray().Select(g => g!.GetValue<string>()));
        Assert.Equal(6, data["curve"]!.AsArray().Count);

        var installed = CurrentModel(harness);
        Assert.NotNull(installed.Manifest.DeviceMade);
        Assert.Equal(1, installed.Manifest.DeviceMade!.ParentCounter);
        Assert.Equal(backbone["modelVersion"]!.GetValue<string>(), installed.Manifest.Version);
        AssertGroups(packages.First, installed, changed: ["stage4", "stage3"], unchanged: ["stem", "stage1", "stage2"]);

        // predict runs the device-made version: another output than the package's, and exactly what its ONNX files give.
        var after = await PredictAsync(cloud, probe, 0);
        Assert.Equal($"fmnist-resnet18@{installed.Manifest.Version}", after["model"]!.GetValue<string>());
        Assert.NotEqual(before["confidence"]!.GetValue<double>(), after["confidence"]!.GetValue<double>());
        AssertMatchesOnnx(installed, probe, after);
        var state = await TestClient.WaitAsync(() => cloud.Received.LastOrDefault(m => m.Topic == "edgetl/test/dev1/state"
            && m.Json["model"]?["version"]?.GetValue<string>() == installed.Manifest.Version), Wait, "a state naming the device-made version");
        Assert.Equal(1, state.Json["model"]!["counter"]!.GetValue<long>());

        // A restart serves the device-made version again, with its own head.
        await harness.RestartAsync();
        var restarted = await PredictAsync(cloud, probe, 0);
        Assert.Equal(after["model"]!.GetValue<string>(), restarted["model"]!.GetValue<string>());
        Assert.Equal(after["confidence"]!.GetValue<double>(), restarted["confidence"]!.GetValue<double>());

        // rollback returns to the package: the same output as before the fine-tune.
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "rollback"), Wait), "ok");
        var back = await PredictAsync(cloud, probe, 0);
        Assert.Equal("fmnist-resnet18@1.1.0", back["model"]!.GetValue<string>());
        Assert.Equal(before["confidence"]!.GetValue<double>(), back["confidence"]!.GetValue<double>());
        Assert.Empty(cloud.SchemaViolations);
    }

    [Fact]
    public async Task Surgical_trains_only_stem_stage1_and_head_and_a_new_cloud_package_replaces_the_device_version()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port, configure: LaxGuard);
        await harness.StartAsync();
        await DeployAndIngestAsync(cloud, packages.Sign(packages.First, "backbone-surgical", counter: 1));
        var probe = SampleImages.FirstFiveClasses(perClass: 1, seed: 77);

        var tuned = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["mode"] = "surgical", ["epochs"] = 3, ["lr"] = 0.001 }), Wait);
        var data = Report(tuned, "surgical");
        Assert.Equal(["head", "stem", "stage1"], data["backbone"]!["trainedGroups"]!.AsArray().Select(g => g!.GetValue<string>()));
        var installed = CurrentModel(harness);
        AssertGroups(packages.First, installed, changed: ["stem", "stage1"], unchanged: ["stage2", "stage3", "stage4"], reestimated: true);
        AssertMatchesOnnx(installed, probe, await PredictAsync(cloud, probe, 0));

        // The next cloud package is served, not the device-made version.
        string next = packages.Sign(packages.Second, "backbone-next", counter: 2);
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy", new JsonObject { ["url"] = new Uri(next).AbsoluteUri }), Wait), "ok");
        var replaced = await PredictAsync(cloud, probe, 0);
        Assert.Equal("fmnist-resnet18@1.2.0", replaced["model"]!.GetValue<string>());
        Assert.Null(CurrentModel(harness).Manifest.DeviceMade);
        Assert.Empty(cloud.SchemaViolations);
    }

    private static async Task DeployAndIngestAsync(TestClient cloud, string package)
    {
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy", new JsonObject { ["url"] = new Uri(package).AbsoluteUri }), Wait), "ok");
        await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "set-config", new JsonObject { ["coldStartShots"] = 1000 }), Wait);
        var train = SampleImages.FirstFiveClasses(perClass: 10, seed: 1);
        for (int i = 0; i < train.Count; i++)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(train, i, labelled: true, domain: "source")), Wait), "ok");
    }

    private JsonNode Report(JsonObject result, string mode)
    {
        output.WriteLine(result.ToJsonString());
        TestClient.AssertStatus(result, "ok");
        var data = result["data"]!;
        var backbone = data["backbone"]!;
        double delta = backbone["onnxMaxAbsDifference"]!.GetValue<double>();
        output.WriteLine($"{mode}: {data["trainSamples"]} train, holdout accuracy {data["accuracy"]} (n = {data["holdoutSamples"]}); compared on {data["comparedOn"]}: "
            + $"candidate {data["candidateAccuracy"]}, serving {data["baselineAccuracy"]}; ONNX max |Δ| {delta:E2} on {backbone["onnxCheckedOn"]} images; {data["seconds"]} s");
        Assert.Equal("holdout", data["accuracyOn"]!.GetValue<string>());
        Assert.True(delta <= 1e-4, $"export differs by {delta}");
        Assert.True(backbone["onnxCheckedOn"]!.GetValue<int>() > 0);
        return data;
    }

    private static async Task<JsonNode> PredictAsync(TestClient cloud, Runtime.Data.LabeledImageSet set, int index)
    {
        var result = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "predict", new JsonObject { ["image"] = Convert.ToBase64String(SampleImages.Png(set, index)) }), Wait);
        TestClient.AssertStatus(result, "ok");
        return result["data"]!;
    }

    /// <summary>
    /// These tests check what a promoted backbone does (frozen groups, export, swap, restart, rollback),
    /// on 50 samples of an untrained test package; they need the promotion to happen, so the guard is
    /// lax here (n ≥ 5, tolerance 50 points). The guard itself is tested in PromotionGuardTests and
    /// PromotionGuardFlowTests, and the default guard refuses these runs (n = 11 &lt; 20).
    /// </summary>
    private static AgentOptions LaxGuard(AgentOptions options) => options with { MinHoldout = 5, PromotionTolerance = 0.5 };

    private InstalledModel CurrentModel(AgentHarness harness) =>
        new ModelStore(Path.Combine(harness.Options.DataDirectory, "models"), packages.Trusted).Current!;

    /// <summary>The served prediction equals the version's own ONNX files run here (its backbone, then its head).</summary>
    private static void AssertMatchesOnnx(InstalledModel installed, Runtime.Data.LabeledImageSet set, JsonNode served)
    {
        using var model = ServedModel.Open(installed);
        var expected = model.Predictor!.FromFeatures(model.Features.ExtractEncoded([SampleImages.Png(set, 0)]), 1)[0];
        Assert.Equal(expected.ClassIndex, served["classIndex"]!.GetValue<int>());
        Assert.Equal(expected.Confidence, served["confidence"]!.GetValue<double>(), 1e-6);
    }

    /// <summary>
    /// Imports the package's and the installed version's backbone ONNX and compares each layer group
    /// bit for bit: parameters and BatchNorm running statistics of the unchanged groups equal, some of
    /// each trained group's parameters changed, and its statistics changed only when the mode
    /// re-estimates them (surgical) and equal otherwise (progressive).
    /// </summary>
    private void AssertGroups(string package, InstalledModel installed, string[] changed, string[] unchanged, bool reestimated = false)
    {
        using var parent = OnnxImporter.ImportBackbone(Path.Combine(package, "backbone.onnx"));
        using var tuned = OnnxImporter.ImportBackbone(installed.PathOf(PackageFileRoles.Backbone)!);
        foreach (var name in unchanged.Concat(changed))
        {
            int parameters = Different(parent.Group(name).Modules.SelectMany(m => m.parameters()), tuned.Group(name).Modules.SelectMany(m => m.parameters()), out int count);
            int statistics = Different(parent.Group(name).Modules.SelectMany(m => m.buffers()), tuned.Group(name).Modules.SelectMany(m => m.buffers()), out int buffers);
            output.WriteLine($"{name}: {parameters} of {count} parameters changed, {statistics} of {buffers} running statistics");
            Assert.True(count > 0 && buffers > 0, $"group {name} has no parameters or statistics");
            if (unchanged.Contains(name))
            {
                Assert.Equal(0, parameters);
                Assert.Equal(0, statistics);
            }
            else
            {
                Assert.True(parameters > 0, $"group {name} should have trained");
                // Surgical re-estimates the statistics of the groups it trains; progressive keeps them.
                Assert.True(reestimated ? statistics > 0 : statistics == 0, $"group {name}: {statistics} running statistics changed (re-estimated: {reestimated})");
            }
        }
    }

    private static int Different(IEnumerable<TorchSharp.torch.Tensor> before, IEnumerable<TorchSharp.torch.Tensor> after, out int count)
    {
        var pairs = before.Zip(after).ToList();
        count = pairs.Count;
        return pairs.Count(p => !p.First.shape.SequenceEqual(p.Second.shape) || !p.First.eq(p.Second).all().item<bool>());
    }
}
