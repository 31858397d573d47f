using System.Text.Json.Nodes;
using EdgeTL.Agent.Tests.Deployment;
using EdgeTL.Agent.Tests.Integration;
using EdgeTL.Reliability.Tests.Harness;
using Xunit.Abstractions;

namespace EdgeTL.Reliability.Tests.Faults;

/// <summary>
/// A device where libtorch does not load (the agent's build without TorchSharp's native bridge, run as
/// a process) serves a deployed package through ONNX Runtime, and refuses every <c>finetune</c> mode,
/// the backbone modes included, and every <c>adapt</c> method (label-free ones too), with
/// <c>TrainingUnavailable</c> and the loader's reason.
/// </summary>
public sealed class TrainingUnavailableTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Without_libtorch_the_agent_serves_and_refuses_finetune_in_every_mode_with_the_reason()
    {
        using var dir = new TempDirectory("edgetl-notorch-");
        using var packages = new DeploymentPackages();
        using var mosquitto = new MosquittoBroker();
        await using var cloud = await TestClient.ConnectAsync(mosquitto.Port, "test", "dev1");
        using var agent = new AgentProcess(dir.Path, mosquitto.Port, agentDll: AgentWithoutLibTorch.AgentDll);
        File.WriteAllText(Path.Combine(dir.Path, "keys", "release.pem"), packages.Key.PublicPem());
        agent.Start();

        var status = TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "status"), Wait), "ok");
        Assert.Equal("unavailable", status["data"]!["training"]!.GetValue<string>());
        string package = packages.Sign(packages.First, "notorch", counter: 1);
        TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy", new JsonObject { ["url"] = new Uri(package).AbsoluteUri }), Wait), "ok");
        var predicted = TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "predict",
            new JsonObject { ["image"] = Convert.ToBase64String(packages.Images.EncodePng(0)) }), Wait), "ok");
        Assert.Equal("fmnist-resnet18@1.1.0", predicted["data"]!["model"]!.GetValue<string>());

        foreach (var mode in new[] { "progressive", "surgical", "head-only" })
        {
            var refused = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "finetune", new JsonObject { ["mode"] = mode, ["epochs"] = 3 }), Wait);
            output.WriteLine($"{mode}: {refused["message"]}");
            TestClient.AssertStatus(refused, "failed");
            Assert.Equal("TrainingUnavailable", refused["data"]!["code"]!.GetValue<string>());
            Assert.Contains("libtorch could not be loaded", refused["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        foreach (var method in new[] { "bn", "tent", "auto", "dann" })
        {
            var refused = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "adapt", new JsonObject { ["method"] = method }), Wait);
            output.WriteLine($"adapt {method}: {refused["message"]}");
            TestClient.AssertStatus(refused, "failed");
            Assert.Equal("TrainingUnavailable", refused["data"]!["code"]!.GetValue<string>());
        }
        Assert.Empty(cloud.SchemaViolations);
    }
}
