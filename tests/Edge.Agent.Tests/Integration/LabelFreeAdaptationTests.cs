using System.Text.Json.Nodes;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Deployment;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer.Interop.Onnx;
using Xunit.Abstractions;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>
/// <c>adapt method=auto</c> (which localizes the shift and runs <c>bn</c> for an input-level one) and <c>method=tent</c> sent over MQTT to a running agent serving a real
/// signed ResNet-18 package (32 px), with inverted images as the target domain: what each method may
/// change in the backbone changes and nothing else does (read back from the installed ONNX file), the
/// result reports both MMD² figures and the guard's numbers, and <c>predict</c> runs the device-made
/// version. With too few labelled target rows and label-free promotion off, nothing is promoted and
/// the reason names n.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class LabelFreeAdaptationTests(DeploymentPackages packages, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(240);
    private static readonly string[] Early = ["stem", "stage1"];
    private static readonly string[] Groups = ["stem", "stage1", "stage2", "stage3", "stage4"];

    [Fact]
    public async Task Auto_localizes_an_inverted_target_as_input_level_and_its_bn_re_estimates_only_batchnorm_statistics_served_as_a_device_made_version()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port, configure: LaxGuard);
        await harness.StartAsync();
        await DeployAndIngestAsync(cloud, packages.Sign(packages.First, "adapt-bn", counter: 1));

        var result = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "adapt", new JsonObject { ["method"] = "auto", ["targetDomain"] = "target" }), Wait);
        var data = Report(result, "bn");
        var shift = data["shift"]!;
        Assert.Equal("input", shift["level"]!.GetValue<string>());
        Assert.Equal("bn", shift["method"]!.GetValue<string>());
        Assert.Equal("surgical", shift["withLabels"]!.GetValue<string>());
        Assert.Contains(shift["peakStage"]!.GetValue<string>(), Early);
        Assert.Equal("discordant-pairs", data["guard"]!["test"]!.GetValue<string>());
        // bn read no label, and neither the package's head nor its backbone trained on a device sample: all 30 labelled target
        // rows judge it (holdout and train part alike), and it adapted on the 30 unlabelled ones.
        Assert.Equal(30, data["guard"]!["comparedOn"]!.GetValue<int>());
        Assert.Equal(30, data["targetSamples"]!.GetValue<int>());
        TestClient.AssertStatus(result, "ok");

        var installed = CurrentModel(harness);
        Assert.Equal("bn", installed.Manifest.DeviceMade!.Mode);
        // It records what it could have trained on: nothing past the 110 samples stored, and no holdout row (it carried the package's head).
        Assert.True(installed.Manifest.DeviceMade.SamplesThrough >= 110, $"samplesThrough {installed.Manifest.DeviceMade.SamplesThrough}");
        Assert.False(installed.Manifest.DeviceMade.HoldoutSeen);
        Assert.Equal(data["backbone"]!["modelVersion"]!.GetValue<string>(), installed.Manifest.Version);
        var (weights, vectors, statistics) = Changes(packages.First, installed);
        Assert.Equal(0, weights);
        Assert.Equal(0, vectors);
        Assert.True(statistics > 0, $"only {statistics} running statistics changed");
        AssertRenormalizedAsChosen(packages.First, installed, data);
        var predicted = await PredictAsync(cloud);
        Assert.Equal($"fmnist-resnet18@{installed.Manifest.Version}", predicted["model"]!.GetValue<string>());
        Assert.Empty(cloud.SchemaViolations);
    }

    [Fact]
    public async Task Tent_trains_only_batchnorm_scales_and_shifts_lowers_the_target_entropy_and_too_few_labels_are_refused_naming_n()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port, configure: LaxGuard);
        await harness.StartAsync();
        await DeployAndIngestAsync(cloud, packages.Sign(packages.First, "adapt-tent", counter: 1));

        var result = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "adapt", new JsonObject { ["method"] = "tent", ["steps"] = 10, ["targetDomain"] = "target" }), Wait);
        var data = Report(result, "tent");
        Assert.Equal(10, data["steps"]!.GetValue<int>());
        TestClient.AssertStatus(result, "ok");
        var installed = CurrentModel(harness);
        var (weights, vectors, statistics) = Changes(packages.First, installed);
        Assert.Equal(0, weights);
        Assert.True(vectors > 0, $"only {vectors} BatchNorm scales and shifts changed");
        Assert.True(statistics > 0, $"only {statistics} running statistics changed");
        AssertRenormalizedAsChosen(packages.First, installed, data);

        // The default guard without label-free promotion. The device-made tent version may have seen the labelled train-part rows
        // (it was made after they arrived), so only the holdout's share of the 30 judges, and that is too few.
        await harness.RestartAsync(options => options with { MinHoldout = 20, PromotionTolerance = 0.02, AllowLabelFreePromotion = false });
        var refused = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "adapt", new JsonObject { ["method"] = "bn", ["targetDomain"] = "target" }), Wait);
        output.WriteLine(refused.ToJsonString());
        TestClient.AssertStatus(refused, "failed");
        var guard = refused["data"]!["guard"]!;
        Assert.False(guard["promoted"]!.GetValue<bool>());
        int n = guard["comparedOn"]!.GetValue<int>();
        Assert.InRange(n, 1, 19);
        Assert.Contains($"n = {n}", refused["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(installed.Manifest.Version, CurrentModel(harness).Manifest.Version);

        // On enough labelled target rows an adaptation is promoted only when the bound holds and it scores higher than what serves.
        await harness.RestartAsync(options => options with { MinHoldout = 5, PromotionTolerance = 0.5, AdaptationMustHelp = true });
        var judged = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "adapt", new JsonObject { ["method"] = "bn", ["targetDomain"] = "target" }), Wait);
        output.WriteLine(judged.ToJsonString());
        var check = judged["data"]!["guard"]!;
        double candidate = check["candidateAccuracy"]!.GetValue<double>(), serving = check["servingAccuracy"]!.GetValue<double>();
        bool helped = candidate > serving && check["lowerBound"]!.GetValue<double>() >= -0.5;
        Assert.Equal(helped, check["promoted"]!.GetValue<bool>());
        TestClient.AssertStatus(judged, helped ? "ok" : "failed");
        if (!helped)
            Assert.Contains("did not help", judged["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(cloud.SchemaViolations);
    }

    /// <summary>
    /// Deploys, labels 50 clean source images, and ingests 60 inverted images of the same classes as the target domain: every other one
    /// unlabelled (what a label-free method adapts on), the others labelled (what judges it: no model trained on them).
    /// </summary>
    private static async Task DeployAndIngestAsync(TestClient cloud, string package)
    {
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy", new JsonObject { ["url"] = new Uri(package).AbsoluteUri }), Wait), "ok");
        await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "set-config", new JsonObject { ["coldStartShots"] = 1000 }), Wait);
        var source = SampleImages.FirstFiveClasses(perClass: 10, seed: 1);
        for (int i = 0; i < source.Count; i++)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(source, i, labelled: true, domain: "source")), Wait), "ok");
        var target = SampleImages.Inverted(SampleImages.FirstFiveClasses(perClass: 12, seed: 5));
        for (int i = 0; i < target.Count; i++)
            TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "ingest", SampleImages.IngestArgs(target, i, labelled: i % 2 == 1, domain: "target")), Wait), "ok");
    }

    private JsonNode Report(JsonObject result, string method)
    {
        output.WriteLine(result.ToJsonString());
        var data = result["data"]!;
        Assert.Equal(method, data["method"]!.GetValue<string>());
        Assert.True(data["targetSamples"]!.GetValue<int>() >= 10);
        double before = data["mmd2Before"]!.GetValue<double>(), after = data["mmd2After"]!.GetValue<double>();
        output.WriteLine($"{method}: MMD² {before:F4} → {after:F4}; guard {data["guard"]}");
        Assert.True(double.IsFinite(before) && double.IsFinite(after));
        Assert.NotEqual(before, after);
        return data;
    }

    private static async Task<JsonNode> PredictAsync(TestClient cloud)
    {
        var probe = SampleImages.Inverted(SampleImages.FirstFiveClasses(perClass: 1, seed: 77));
        var result = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "predict", new JsonObject { ["image"] = Convert.ToBase64String(SampleImages.Png(probe, 0)) }), Wait);
        TestClient.AssertStatus(result, "ok");
        return result["data"]!;
    }

    /// <summary>
    /// These tests check what a promoted adaptation changes, on an untrained test package that no
    /// adaptation makes better; so the guard is lax (n ≥ 5, 50 points, no need to help). The guard's
    /// own figures are in PromotionGuardTests; the rules it adds for adaptations are checked below.
    /// </summary>
    private static AgentOptions LaxGuard(AgentOptions options) => options with { MinHoldout = 5, PromotionTolerance = 0.5, AdaptationMustHelp = false };

    private InstalledModel CurrentModel(AgentHarness harness) =>
        new ModelStore(Path.Combine(harness.Options.DataDirectory, "models"), packages.Trusted).Current!;

    /// <summary>How many tensors differ between the package's backbone and the installed one: weights (2-D and more), vectors (BatchNorm scales and shifts, biases) and running statistics.</summary>
    private (int Weights, int Vectors, int Statistics) Changes(string package, InstalledModel installed)
    {
        using var parent = OnnxImporter.ImportBackbone(Path.Combine(package, "backbone.onnx"));
        using var tuned = OnnxImporter.ImportBackbone(installed.PathOf(PackageFileRoles.Backbone)!);
        var parameters = parent.parameters().Zip(tuned.parameters()).ToList();
        int weights = parameters.Count(p => p.First.dim() >= 2 && !Same(p.First, p.Second));
        int vectors = parameters.Count(p => p.First.dim() < 2 && !Same(p.First, p.Second));
        int statistics = parent.buffers().Zip(tuned.buffers()).Count(p => !Same(p.First, p.Second));
        output.WriteLine($"changed: {weights} weights, {vectors} vectors of {parameters.Count} parameters; {statistics} running statistics");
        return (weights, vectors, statistics);
    }

    /// <summary>
    /// The groups re-normalized are the early run the one-standard-error rule picks among those the shift report lists (none first):
    /// within one standard error of the smallest gap, the fewest BatchNorm layers. Their running statistics moved, every other group's
    /// are bit for bit the package's.
    /// </summary>
    private void AssertRenormalizedAsChosen(string package, InstalledModel installed, JsonNode data)
    {
        var shift = data["shift"]!;
        Assert.Equal(Groups, shift["stages"]!.AsArray().Select(s => s!["stage"]!.GetValue<string>()));
        var changed = shift["renormalized"]!.AsArray().Select(g => g!.GetValue<string>()).ToArray();
        var unchanged = Groups.Except(changed).ToArray();
        var candidates = shift["candidates"]!.AsArray().Select(c => (Groups: c!["groups"]!.AsArray().Select(g => g!.GetValue<string>()).ToArray(),
            Gap: c["featureGap"]!.GetValue<double>(), Layers: c["batchNormLayers"]!.GetValue<int>(), Error: c["gapError"]?.GetValue<double>() ?? 0)).ToList();
        output.WriteLine($"re-normalized {string.Join("+", changed)}; candidates {string.Join(", ", candidates.Select(c => $"[{string.Join("+", c.Groups)}] {c.Gap:G3}"))}");
        Assert.Empty(candidates[0].Groups);
        Assert.All(candidates.Skip(1), c => Assert.Subset(Early.ToHashSet(), c.Groups.ToHashSet()));
        var best = candidates.Skip(1).MinBy(c => c.Gap);
        var chosen = candidates.Single(c => c.Groups.SequenceEqual(changed));
        Assert.All(candidates.Skip(1), c => Assert.True(c.Layers > 0 && c.Error > 0, $"[{string.Join("+", c.Groups)}]: {c.Layers} layers, ± {c.Error}"));
        Assert.True(chosen.Gap <= best.Gap + best.Error);
        Assert.DoesNotContain(candidates.Skip(1), c => c.Gap <= best.Gap + best.Error && c.Layers < chosen.Layers);
        Assert.Equal(changed, data["backbone"]!["trainedGroups"]!.AsArray().Select(g => g!.GetValue<string>()));
        using var parent = OnnxImporter.ImportBackbone(Path.Combine(package, "backbone.onnx"));
        using var tuned = OnnxImporter.ImportBackbone(installed.PathOf(PackageFileRoles.Backbone)!);
        foreach (var name in changed.Concat(unchanged))
        {
            var pairs = parent.Group(name).Modules.SelectMany(m => m.buffers()).Zip(tuned.Group(name).Modules.SelectMany(m => m.buffers())).ToList();
            int moved = pairs.Count(p => !Same(p.First, p.Second));
            output.WriteLine($"{name}: {moved} of {pairs.Count} running statistics changed");
            if (changed.Contains(name))
                Assert.True(moved > 0, $"{name} was not re-estimated");
            else
                Assert.Equal(0, moved);
        }
    }

    private static bool Same(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
}
