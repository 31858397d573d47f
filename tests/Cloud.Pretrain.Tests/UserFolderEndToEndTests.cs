using System.CommandLine;
using System.Text.Json;
using EdgeTL.Agent.Hosting;
using EdgeTL.Runtime.Data;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Tests;
using Xunit.Abstractions;

namespace EdgeTL.Cloud.Tests;

/// <summary>
/// A user's own image folder, end to end, every step a command as the user types it: <c>import</c>
/// (ML.NET's ImageNet ResNet-18 with its preprocessing graph, and a torchvision <c>.pt</c>),
/// <c>train --data FOLDER</c>, <c>package --from-train</c>, <c>evaluate</c> (the cloud's own score of
/// the package), <c>publish</c> to a real agent over mosquitto, and <c>edgetl-agent predict</c> over MQTT
/// for every held-out image. The device must predict each image as the cloud's evaluation did.
/// </summary>
[Collection(PretrainedGroup.Name)]
public sealed class UserFolderEndToEndTests(PretrainedFixture fixture, ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-cloud-e2e-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Import_train_package_publish_and_predict_over_mqtt_agree_with_the_cloud_image_for_image()
    {
        string data = WriteUserFolder();
        string models = MlNetResNet18.FindModelsDirectory(ModelsDirectory());
        string mlnet = Path.Combine(_dir, "import-mlnet"), torchvision = Path.Combine(_dir, "import-pt");
        await Cli.ExpectAsync(0, "import", "--from", MlNetResNet18.BackbonePath(models), "--preprocess", MlNetResNet18.PreprocessPath(models),
            "--out", mlnet, "--threads", "2");
        await Cli.ExpectAsync(0, "import", "--from", PeerFixtures.File("resnet18.pt"), "--arch", "resnet18", "--out", torchvision, "--threads", "2");

        // ML.NET's graph is no zoo architecture: a TG baseline must name the one to compare with.
        var noBaseline = await Cli.ExpectAsync(2, "train", "--data", data, "--from", mlnet, "--baseline", "--out", Path.Combine(_dir, "never"));
        Assert.Contains("--baseline resnet18", noBaseline.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));

        using var broker = new Mosquitto();
        await using var agent = await TestAgents.StartAsync(_dir, fixture.PublicKey, broker.Port, "cam-01");
        int counter = 0;
        foreach (var (import, size) in new[] { (mlnet, 224), (torchvision, 64) })
        {
            counter++;
            string trained = Path.Combine(_dir, $"trained-{counter}");
            var run = await Cli.ExpectAsync(0, "train", "--data", data, "--from", import, "--size", size.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--head-epochs", "30", "--epochs", "3", "--out", trained, "--threads", "2", "--json");
            using var report = JsonDocument.Parse(run.Output);
            Assert.Equal("folders", report.RootElement.GetProperty("splitBy").GetString());
            Assert.Equal([.. ImageFolders.Names.Append("photo").Order(StringComparer.Ordinal)], report.RootElement.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).ToArray());

            string package = Path.Combine(_dir, $"model-{counter}.tar");
            await Cli.ExpectAsync(0, "package", "--from-train", trained, "--key", fixture.PrivateKey, "--counter", $"{counter + 10}", "--version", $"{counter}.0.0",
                "--out", package, "--threads", "2");
            var evaluated = await Cli.ExpectAsync(0, "evaluate", "--package", package, "--trusted", fixture.Keys, "--data", data, "--json");
            using var evaluation = JsonDocument.Parse(evaluated.Output);
            var cloud = evaluation.RootElement.GetProperty("predictions").EnumerateArray()
                .ToDictionary(p => p.GetProperty("file").GetString()!, p => p.GetProperty("predicted").GetInt32());
            var labels = evaluation.RootElement.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).ToArray();
            Assert.Equal(Directory.GetFiles(Path.Combine(data, "val"), "*", SearchOption.AllDirectories).Length, cloud.Count);
            output.WriteLine($"{Path.GetFileName(import)}: train says {report.RootElement.GetProperty("accuracy").GetDouble():P1}, evaluate of the package {evaluation.RootElement.GetProperty("accuracy").GetDouble():P1} on {cloud.Count} held-out images");

            if (size == 64)
                await QuantizeAsync(package, data);

            var published = await Cli.ExpectAsync(0, "publish", "--broker", broker.Address, "--fleet", "plant", "--group", "line1",
                "--url", new Uri(package).AbsoluteUri, "--package", package, "--wait-devices", "cam-01", "--timeout", "120", "--json");
            Assert.Contains("\"allPromoted\": true", published.Output, StringComparison.Ordinal);

            foreach (var (file, predicted) in cloud)
            {
                var device = await PredictOnDeviceAsync(broker, Path.Combine(data, "val", file));
                Assert.True(device.ClassIndex == predicted, $"{file}: the device says {labels[device.ClassIndex]}, the cloud's evaluation {labels[predicted]}");
                Assert.Equal(labels[predicted], device.Label);
                Assert.Equal($"{counter}.0.0", device.Version);
            }
        }
    }

    /// <summary><c>quantize</c> of the package: calibrated on train/, scored on val/, each method beside fp32; bad arguments refused.</summary>
    private async Task QuantizeAsync(string package, string data)
    {
        var run = await Cli.ExpectAsync(0, "quantize", "--package", package, "--trusted", fixture.Keys, "--calibration", Path.Combine(data, "train"),
            "--data", data, "--out", Path.Combine(_dir, "int8"), "--json");
        using var summary = JsonDocument.Parse(run.Output);
        var fp32 = summary.RootElement.GetProperty("fp32");
        var rows = summary.RootElement.GetProperty("int8").EnumerateArray().ToList();
        Assert.Equal(["minmax", "percentile", "entropy"], rows.Select(r => r.GetProperty("method").GetString()!));
        Assert.All(rows, r => Assert.Equal(fp32.GetProperty("images").GetInt32(), r.GetProperty("images").GetInt32()));
        Assert.All(rows, r => Assert.True(File.Exists(r.GetProperty("file").GetString())));
        double delta = rows[0].GetProperty("accuracy").GetDouble() - fp32.GetProperty("accuracy").GetDouble();
        output.WriteLine($"quantize: fp32 {fp32.GetProperty("accuracy").GetDouble():P1}, " + string.Join(", ", rows.Select(r =>
            $"{r.GetProperty("method").GetString()} {r.GetProperty("accuracy").GetDouble():P1} at {r.GetProperty("imagesPerSecond").GetDouble() / fp32.GetProperty("imagesPerSecond").GetDouble():F2}× fp32")));
        Assert.True(Math.Abs(delta) <= 0.1, $"min/max int8 moved held-out accuracy by {delta:P1}");

        var overlap = await Cli.ExpectAsync(2, "quantize", "--package", package, "--trusted", fixture.Keys, "--calibration", data, "--data", data);
        Assert.Contains("not held out", overlap.Error, StringComparison.Ordinal);
        await Cli.ExpectAsync(2, "quantize", "--package", package, "--trusted", fixture.Keys, "--calibration", Path.Combine(data, "train"), "--data", data, "--method", "guess");
    }

    /// <summary>train/ and val/ class folders: real Fashion-MNIST PNGs (classes 5–9) and a class of the real colour photos.</summary>
    private string WriteUserFolder()
    {
        string root = Path.Combine(_dir, "images");
        ImageFolders.WriteFashion(Path.Combine(root, "train"), FashionMnist.LoadTrain(), perClass: 8, seed: 1);
        ImageFolders.WriteFashion(Path.Combine(root, "val"), FashionMnist.LoadTest(), perClass: 6, seed: 2);
        var photos = ImageFolders.Photos();
        foreach (var (photo, i) in photos.Select((p, i) => (p, i)))
        {
            string folder = Path.Combine(root, i < photos.Length - 1 ? "train" : "val", "photo");
            Directory.CreateDirectory(folder);
            File.Copy(photo, Path.Combine(folder, Path.GetFileName(photo)));
        }
        return root;
    }

    /// <summary><c>edgetl-agent predict --image FILE --broker … --device cam-01</c>, its printed result parsed.</summary>
    private static async Task<(int ClassIndex, string Label, string Version)> PredictOnDeviceAsync(Mosquitto broker, string image)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = await AgentCli.Build().Parse(["predict", "--image", image, "--broker", broker.Address, "--fleet", "plant", "--device", "cam-01"])
            .InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr });
        Assert.True(code == 0, $"edgetl-agent predict {image}: exit {code}\n{stdout}\n{stderr}");
        using var result = JsonDocument.Parse(stdout.ToString());
        var prediction = result.RootElement.GetProperty("data");
        return (prediction.GetProperty("classIndex").GetInt32(), prediction.GetProperty("label").GetString()!, prediction.GetProperty("model").GetString()!.Split('@')[^1]);
    }

    private static string ModelsDirectory() => typeof(UserFolderEndToEndTests).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false).Cast<System.Reflection.AssemblyMetadataAttribute>()
        .Single(a => a.Key == "DnnImageModels").Value!;
}
