using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Deployment;
using EdgeTL.Agent.Tests.Integration;

namespace EdgeTL.Agent.Tests.Hosting;

/// <summary><c>edgetl-agent status | predict | extract</c>, against a running agent and offline on a package.</summary>
[Collection(SharedPackages.Name)]
public sealed class DeviceCliTests(DeploymentPackages packages) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Status_and_predict_against_a_running_agent_exit_zero_and_an_unreachable_broker_exits_8()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var harness = new AgentHarness(packages.Key, broker.Port);
        var agent = await harness.StartAsync();
        string image = WriteImage();
        string at = $"127.0.0.1:{broker.Port}";

        Assert.Equal(0, await Run("status", "--broker", at, "--fleet", "test", "--device", "dev1"));
        Assert.Equal(3, await Run("predict", "--image", image, "--broker", at, "--fleet", "test", "--device", "dev1"));   // no model yet: the device says so
        Assert.Equal(8, await Run("status", "--broker", $"127.0.0.1:{EmbeddedBroker.FreePort()}", "--fleet", "test", "--device", "dev1"));
        Assert.Equal(2, await Run("status", "--broker", "nonsense"));
    }

    [Fact]
    public async Task Predict_and_extract_offline_verify_the_package_and_refuse_an_untrusted_one()
    {
        string keys = Path.Combine(_dir, "keys");
        Directory.CreateDirectory(keys);
        await File.WriteAllTextAsync(Path.Combine(keys, "release.pem"), packages.Key.PublicPem());
        string package = packages.Sign(packages.First, "cli-offline", counter: 1);
        string image = WriteImage();
        string features = Path.Combine(_dir, "features.f32");

        Assert.Equal(0, await Run("predict", "--image", image, "--package", package, "--trusted", keys));
        Assert.Equal(0, await Run("extract", "--image", image, image, "--package", package, "--trusted", keys, "--out", features));
        Assert.Equal(2 * 512 * sizeof(float), new FileInfo(features).Length);

        using var stranger = Runtime.Packaging.SigningKey.Create();
        string untrusted = packages.Sign(packages.First, "cli-untrusted", counter: 1, key: stranger);
        Assert.Equal(3, await Run("predict", "--image", image, "--package", untrusted, "--trusted", keys));
    }

    private string WriteImage()
    {
        string path = Path.Combine(_dir, "shirt.png");
        File.WriteAllBytes(path, SampleImages.Png(SampleImages.FirstFiveClasses(1, seed: 2), 0));
        return path;
    }

    private static Task<int> Run(params string[] args) => AgentCli.Build().Parse(args).InvokeAsync();
}
