using EdgeTL.Agent.Deployment;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Serving;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Packaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EdgeTL.Agent.Tests.Deployment;

/// <summary>
/// The Jetson deployment (deploy/jetson): the shipped agent.json binds and validates, its
/// TensorRT engine cache reaches the session options, and an inference-only device serves
/// predictions from the package's ONNX backbone and head alone.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class JetsonDeploymentTests : IDisposable
{
    private readonly DeploymentPackages _p;
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-jetson-").FullName;

    public JetsonDeploymentTests(DeploymentPackages packages) => _p = packages;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void JetsonSettings_AsConfigFile_ValidWithTlsAndEngineCache()
    {
        using var host = AgentHost.Build([], embedded: false, configFile: Path.Combine(RepoRoot(), "deploy", "jetson", "appsettings.Jetson.json"));

        var options = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value; // runs the validators

        Assert.Empty(options.Problems());
        Assert.True(options.Broker.UseTls);
        Assert.Equal(("/etc/edgetl/tls/ca.crt", "/etc/edgetl/tls/device.crt", "/etc/edgetl/tls/device.key"),
            (options.Broker.CaFile, options.Broker.ClientCertificateFile, options.Broker.ClientKeyFile));
        Assert.Equal(75, options.MaxTemperatureC);
        Assert.Equal("/var/cache/edgetl/tensorrt", options.TensorRtEngineCache);
        Assert.Equal("/var/cache/edgetl/tensorrt", options.Sessions().TensorRtEngineCache);
        Assert.Equal([ExecutionProvider.TensorRt, ExecutionProvider.Cuda, ExecutionProvider.Cpu], options.Sessions().Providers);
    }

    [Fact]
    public void Problems_RelativeEngineCache_Named()
    {
        var options = new AgentOptions { TensorRtEngineCache = "trt-cache" };

        Assert.Contains(options.Problems(), p => p.Contains("Agent:TensorRtEngineCache 'trt-cache'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Predict_PackageOnnxHeadAndNoDeviceHead_ServesFromOnnxOnly()
    {
        var store = new ModelStore(Path.Combine(_dir, "store"), _p.Trusted);
        using var fetcher = new PackageFetcher(Path.Combine(_dir, "downloads"));
        var deployer = new Deployer(store, fetcher, new HealthGate(new HealthGateOptions()), NullLogger<Deployer>.Instance,
            new SessionOptionsSpec { Providers = [ExecutionProvider.Cpu] });
        var outcome = await deployer.DeployAsync(new Uri(_p.Sign(_p.First, "jetson-serve", counter: 1)));
        Assert.Equal(DeploymentStatus.Promoted, outcome.Status);
        using var server = new ModelServer();

        // What EdgeAgent serves when libtorch cannot load: the package, no device-trained head
        // (LoadServingHead returns null without TorchRuntime).
        server.Replace(outcome.Served, head: null);
        var predictions = server.Predict(server.Model!.Features.Extract(_p.Images), _p.Images.Count);

        Assert.Null(server.Head);
        Assert.NotNull(server.Model.Head); // the package's own ONNX head
        Assert.Equal(_p.Images.Count, predictions.Count);
        var labels = server.Model.Installed.Manifest.Labels;
        Assert.All(predictions, p =>
        {
            Assert.Null(p.HeadId);
            Assert.Equal("fmnist-resnet18@1.1.0", p.Model);
            Assert.Equal(labels[p.ClassIndex], p.Label);
            Assert.Equal(1f, p.Probabilities.Sum(), 1e-4f);
            Assert.Equal(p.Probabilities.Max(), (float)p.Confidence, 1e-6f);
        });
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeTL.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("EdgeTL.sln not found above " + AppContext.BaseDirectory);
    }
}
