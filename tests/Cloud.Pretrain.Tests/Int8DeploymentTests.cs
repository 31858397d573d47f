using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeTL.Agent.Hosting;
using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer.Tests;
using Xunit.Abstractions;

namespace EdgeTL.Cloud.Tests;

/// <summary>
/// Int8 deployment as a user runs it, every step a command: <c>train</c> on a folder, <c>package --from-train --int8</c> (calibrated on
/// train/, scored on val/), <c>publish</c> to a real agent on mosquitto, and <c>edgetl-agent send</c> / <c>status</c> over MQTT. The device
/// serves int8 only when its own gate passes: with no samples it keeps fp32 (too few to measure); a package calibrated on one blank
/// image is refused by the gate with the figures in the deploy result and the state; a well-calibrated one serves int8; and a backbone
/// the device fine-tunes itself is re-quantized from the device's samples and passes the same gate.
/// </summary>
[Collection(PretrainedGroup.Name)]
public sealed class Int8DeploymentTests(PretrainedFixture fixture, ITestOutputHelper output) : IDisposable
{
    /// <summary>
    /// The package's budget. The device decides on its labelled holdout (about 22 rows here), where the guard's 95 % bound moves by
    /// several points per discordant row: a 1-point budget needs hundreds of rows to pass even an int8 backbone that loses nothing.
    /// </summary>
    private const string BudgetPoints = "10";

    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-int8-deploy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Package_int8_serves_int8_only_where_the_device_gate_passes_and_a_device_made_backbone_is_requantized()
    {
        string data = Path.Combine(_dir, "images");
        ImageFolders.WriteFashion(Path.Combine(data, "train"), FashionMnist.LoadTrain(), perClass: 20, seed: 1);
        ImageFolders.WriteFashion(Path.Combine(data, "val"), FashionMnist.LoadTest(), perClass: 12, seed: 2);
        string import = Path.Combine(_dir, "import"), trained = Path.Combine(_dir, "trained");
        await Cli.ExpectAsync(0, "import", "--from", PeerFixtures.File("resnet18.pt"), "--arch", "resnet18", "--out", import, "--threads", "2");
        await Cli.ExpectAsync(0, "train", "--data", data, "--from", import, "--size", "64", "--head-epochs", "30", "--epochs", "0", "--out", trained, "--threads", "2");

        // quantize --from: an import's backbone, headless (nearest class centroid on train/, scored on val/).
        var headless = await Cli.ExpectAsync(0, "quantize", "--from", import, "--size", "64", "--calibration", Path.Combine(data, "train"), "--data", data,
            "--method", "minmax", "--json");
        using (var summary = JsonDocument.Parse(headless.Output))
        {
            var fp32 = summary.RootElement.GetProperty("fp32");
            var minmax = summary.RootElement.GetProperty("int8")[0];
            output.WriteLine($"quantize --from: fp32 {fp32.GetProperty("accuracy").GetDouble():P1}, int8 {minmax.GetProperty("accuracy").GetDouble():P1} on n = {fp32.GetProperty("images")}, cosine {minmax.GetProperty("featureCosine").GetDouble():F4}");
            Assert.Equal(60, minmax.GetProperty("images").GetInt32());
            Assert.True(minmax.GetProperty("featureCosine").GetDouble() > 0.95);
            Assert.True(Math.Abs(minmax.GetProperty("accuracy").GetDouble() - fp32.GetProperty("accuracy").GetDouble()) <= 0.1);
        }
        var neither = await Cli.ExpectAsync(2, "quantize", "--calibration", Path.Combine(data, "train"), "--data", data);
        Assert.Contains("--package", neither.Error, StringComparison.Ordinal);

        // package --int8: calibrated on train/, scored on all 60 val/ images, figures in the signed manifest.
        string good = await PackageAsync(trained, counter: 11, "good");
        var manifest = Manifest(good);
        var int8 = manifest.Quantized!;
        output.WriteLine($"cloud: fp32 {int8.Fp32Accuracy:P1}, int8 {int8.Int8Accuracy:P1} on n = {int8.ScoredImages} ({int8.Method}, {int8.CalibrationImages} calibration images, golden tolerance {int8.GoldenTolerance:G3})");
        Assert.Equal(("percentile", 64, 60), (int8.Method, int8.CalibrationImages, int8.ScoredImages));
        Assert.True(Math.Abs(int8.Fp32Accuracy!.Value - int8.Int8Accuracy!.Value) <= 0.05, "int8 moved the cloud's held-out accuracy by more than 5 points");
        Assert.NotNull(manifest.FileFor(PackageFileRoles.BackboneInt8));
        Assert.NotNull(manifest.FileFor(PackageFileRoles.GoldenOutputsInt8));

        // A deliberately bad calibration: one blank frame. The cloud warns, and ships it for the device to refuse.
        string blank = Path.Combine(_dir, "blank");
        Directory.CreateDirectory(blank);
        ImageFolders.WritePng(Path.Combine(blank, "frame.png"), new byte[28 * 28], 28, 28);
        string bad = await PackageAsync(trained, counter: 12, "bad", "--calibration", blank);
        var badInt8 = Manifest(bad).Quantized!;
        output.WriteLine($"cloud, one blank calibration frame: int8 {badInt8.Int8Accuracy:P1} against fp32 {badInt8.Fp32Accuracy:P1}");
        Assert.Equal(1, badInt8.CalibrationImages);
        Assert.True(badInt8.Fp32Accuracy - badInt8.Int8Accuracy > 0.10, "one blank calibration frame should cost int8 more than the budget");

        using var broker = new Mosquitto();
        // The guard that promotes a device-made backbone is lax here (tolerance 50 points): this test is about the int8 gate, which
        // keeps the default MinHoldout (20) and uses the package's budget. The backbone guard is tested in Edge.Agent.Tests.
        await using var agent = await TestAgents.StartAsync(_dir, fixture.PublicKey, broker.Port, "cam-01", o => o with { PromotionTolerance = 0.5 });

        // 1. No samples yet: 5 golden inputs are too few rows to measure the drop, so fp32 serves, and the state says why.
        await PublishAsync(broker, good);
        var first = await StatusModelAsync(broker);
        Assert.Equal("fp32", first["precision"]!.GetValue<string>());
        Assert.Contains("too few samples", first["precisionReason"]!.GetValue<string>(), StringComparison.Ordinal);

        // 80 labelled images of the device's own, about 22 of them in the fixed holdout.
        var seen = FashionMnist.LoadTest().SelectClasses([5, 6, 7, 8, 9]).SamplePerClass(16, seed: 9);
        for (int i = 0; i < seen.Count; i++)
            await SendAsync(broker, "ingest", new JsonObject { ["image"] = Convert.ToBase64String(seen.EncodePng(i)), ["label"] = ImageFolders.Names[seen.Labels[i]] }, "ok");

        // 2. The bad calibration: the package promotes (fp32 is healthy), the int8 gate refuses, the result and the state say why.
        var badResult = await SendAsync(broker, "deploy", new JsonObject { ["url"] = new Uri(bad).AbsoluteUri }, "ok");
        var badChoice = badResult["data"]!["precision"]!;
        output.WriteLine($"device, bad calibration: {badChoice["reason"]}");
        Assert.Equal(("fp32", "device-holdout"), (badChoice["served"]!.GetValue<string>(), badChoice["test"]!.GetValue<string>()));
        Assert.True(badChoice["n"]!.GetValue<int>() >= 20);
        Assert.True(badChoice["lowerBound"]!.GetValue<double>() < -0.10);
        var refused = await StatusModelAsync(broker);
        Assert.Equal(("fp32", "1.12.0"), (refused["precision"]!.GetValue<string>(), refused["version"]!.GetValue<string>()));
        Assert.Equal(badChoice["reason"]!.GetValue<string>(), refused["precisionReason"]!.GetValue<string>());

        // 3. The good calibration, as the next package: int8 serves.
        string next = await PackageAsync(trained, counter: 13, "next");
        var goodResult = await SendAsync(broker, "deploy", new JsonObject { ["url"] = new Uri(next).AbsoluteUri }, "ok");
        var goodChoice = goodResult["data"]!["precision"]!;
        output.WriteLine($"device, good calibration: {goodChoice["reason"]}");
        Assert.Equal("int8", goodChoice["served"]!.GetValue<string>());
        Assert.Equal("int8", (await StatusModelAsync(broker))["precision"]!.GetValue<string>());
        var served = await PredictAsync(broker, seen, 0);
        Assert.Equal("1.13.0", served.GetProperty("model").GetString()!.Split('@')[^1]);

        // 4. A backbone the device tunes itself: re-quantized from its own samples, and gated the same way.
        var tuned = await SendAsync(broker, "finetune", new JsonObject { ["mode"] = "progressive", ["epochs"] = 3, ["lr"] = 0.0003 }, "ok");
        var backbone = tuned["data"]!["backbone"]!;
        var requantized = backbone["precision"]!;
        output.WriteLine($"device-made {backbone["modelVersion"]}: {requantized["reason"]}");
        Assert.Equal("int8", requantized["served"]!.GetValue<string>());
        using var keys = VerifyCommand.LoadTrusted(fixture.Keys);
        var store = new ModelStore(Path.Combine(_dir, "cam-01", "data", "models"), keys);
        var (installed, parent) = (store.Current!, store.Previous!);
        Assert.Equal((13L, "1.13.0"), (installed.Manifest.DeviceMade!.ParentCounter, parent.Manifest.Version));
        Assert.Contains("device samples", installed.Manifest.Quantized!.CalibrationSource, StringComparison.Ordinal);
        Assert.NotEqual(ModelPackage.HashFile(parent.PathOf(PackageFileRoles.BackboneInt8)!), ModelPackage.HashFile(installed.PathOf(PackageFileRoles.BackboneInt8)!));
        var state = await StatusModelAsync(broker);
        Assert.Equal((backbone["modelVersion"]!.GetValue<string>(), "int8"), (state["version"]!.GetValue<string>(), state["precision"]!.GetValue<string>()));
    }

    private async Task<string> PackageAsync(string trained, int counter, string name, params string[] extra)
    {
        string package = Path.Combine(_dir, $"{name}.tar");
        var run = await Cli.ExpectAsync(0, ["package", "--from-train", trained, "--key", fixture.PrivateKey, "--counter", $"{counter}", "--version", $"1.{counter}.0",
            "--int8", "--int8-budget", BudgetPoints, "--out", package, "--threads", "2", .. extra]);
        output.WriteLine(run.Output);
        Assert.Contains("int8 (percentile", run.Output, StringComparison.Ordinal);
        return package;
    }

    private ModelManifest Manifest(string package)
    {
        using var keys = VerifyCommand.LoadTrusted(fixture.Keys);
        return ModelPackage.Verify(package, keys).Manifest;
    }

    private static async Task PublishAsync(Mosquitto broker, string package)
    {
        var published = await Cli.ExpectAsync(0, "publish", "--broker", broker.Address, "--fleet", "plant", "--group", "line1",
            "--url", new Uri(package).AbsoluteUri, "--package", package, "--wait-devices", "cam-01", "--timeout", "120", "--json");
        Assert.Contains("\"allPromoted\": true", published.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>edgetl-agent send NAME --args @FILE --json</c>: the final result, which must have <paramref name="status"/>. A <c>busy</c>
    /// answer (the device's own cold start runs once enough labels arrived) is sent again a second later, as the protocol asks.
    /// </summary>
    private async Task<JsonNode> SendAsync(Mosquitto broker, string name, JsonObject args, string status)
    {
        string file = Path.Combine(_dir, "args.json");
        await File.WriteAllTextAsync(file, args.ToJsonString());
        for (int attempt = 1; ; attempt++)
        {
            var (code, stdout, stderr) = await AgentAsync(["send", name, "--args", "@" + file, "--json", "--timeout", "600",
                "--broker", broker.Address, "--fleet", "plant", "--device", "cam-01"]);
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length > 0, $"{name}: exit {code}, no result\n{stderr}");
            var final = JsonNode.Parse(lines[^1])!;
            string answered = final["status"]!.GetValue<string>();
            if (answered == "busy" && status != "busy" && attempt < 120)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                continue;
            }
            Assert.True(answered == status, $"{name}: exit {code}, {final.ToJsonString()}\n{stderr}");
            return final;
        }
    }

    private static async Task<JsonNode> StatusModelAsync(Mosquitto broker)
    {
        var (code, stdout, stderr) = await AgentAsync(["status", "--broker", broker.Address, "--fleet", "plant", "--device", "cam-01"]);
        Assert.True(code == 0, $"status: exit {code}\n{stdout}\n{stderr}");
        return JsonNode.Parse(stdout)!["data"]!["model"]!;
    }

    private async Task<JsonElement> PredictAsync(Mosquitto broker, LabeledImageSet set, int index)
    {
        string image = Path.Combine(_dir, "probe.png");
        await File.WriteAllBytesAsync(image, set.EncodePng(index));
        var (code, stdout, stderr) = await AgentAsync(["predict", "--image", image, "--broker", broker.Address, "--fleet", "plant", "--device", "cam-01"]);
        Assert.True(code == 0, $"predict: exit {code}\n{stdout}\n{stderr}");
        return JsonDocument.Parse(stdout).RootElement.GetProperty("data").Clone();
    }

    private static async Task<(int Code, string Output, string Error)> AgentAsync(string[] args)
    {
        using var stdout = new StringWriter(CultureInfo.InvariantCulture);
        using var stderr = new StringWriter(CultureInfo.InvariantCulture);
        int code = await AgentCommandLine.InvokeAsync(args, new InvocationConfiguration { Output = stdout, Error = stderr });
        return (code, stdout.ToString(), stderr.ToString());
    }
}
