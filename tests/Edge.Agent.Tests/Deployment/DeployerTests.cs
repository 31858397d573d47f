using EdgeTL.Agent.Deployment;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Packaging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeTL.Agent.Tests.Deployment;

[Collection(SharedPackages.Name)]
public sealed class DeployerTests : IDisposable
{
    private static readonly SessionOptionsSpec CpuOnly = new() { Providers = [ExecutionProvider.Cpu] };
    private readonly DeploymentPackages _p;
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-deployer-").FullName;
    private readonly List<IDisposable> _owned = [];

    public DeployerTests(DeploymentPackages packages) => _p = packages;

    public void Dispose()
    {
        foreach (var d in _owned)
            d.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task DeployAsync_GoodSignedPackageOverHttp_PromotedAndServes()
    {
        string package = _p.Sign(_p.First, "good-http", counter: 1);
        byte[] bytes = await File.ReadAllBytesAsync(package);
        await using var server = new LoopbackHttpServer((request, stream) => LoopbackHttpServer.ServeWithRanges(request, stream, bytes));
        var (deployer, store, fetcher) = Create(new HealthGateOptions());

        var outcome = await deployer.DeployAsync(server.Url("fmnist.tar"));

        Assert.Equal(DeploymentStatus.Promoted, outcome.Status);
        Assert.True(outcome.Health!.Passed, outcome.Reason);
        Assert.Equal(("1.1.0", 1L), (outcome.Version, outcome.Counter));
        Assert.True(outcome.Health.MedianLatencyMs > 0);
        var served = Own(outcome.Served!);
        Assert.Equal(store.Current!.Directory, served.Installed.Directory);
        AssertServes(served, _p.First);
        Assert.Empty(Directory.GetFiles(fetcher.DownloadDirectory)); // the download is removed once installed

        using var reopened = deployer.OpenCurrent();
        Assert.Equal(store.Current.Directory, reopened!.Installed.Directory);
    }

    [Fact]
    public async Task DeployAsync_LatencyOverBudget_RolledBackAndPreviousServes()
    {
        var (deployer, store, _) = Create(new HealthGateOptions());
        var first = await deployer.DeployAsync(new Uri(_p.Sign(_p.First, "lat-v1", counter: 1)));
        Assert.Equal(DeploymentStatus.Promoted, first.Status);
        Own(first.Served!);
        string previous = store.Current!.Directory;
        var (strict, _, _) = Create(new HealthGateOptions { LatencyBudget = TimeSpan.FromTicks(30), Runs = 3 }, store);

        var outcome = await strict.DeployAsync(new Uri(_p.Sign(_p.Second, "lat-v2", counter: 2)));

        Assert.Equal(DeploymentStatus.RolledBack, outcome.Status);
        Assert.False(outcome.Health!.Passed);
        Assert.Contains("latency", outcome.Health.Reason, StringComparison.Ordinal);
        Assert.Contains("> budget 0.003 ms", outcome.Health.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("golden", outcome.Health.Reason, StringComparison.Ordinal);
        Assert.Contains(outcome.Health.Reason, outcome.Reason, StringComparison.Ordinal);
        Assert.Contains("rolled back to fmnist-resnet18 1.1.0 (counter 1)", outcome.Reason, StringComparison.Ordinal);
        Assert.True(outcome.Health.MedianLatencyMs > 0.003);
        Assert.Equal(previous, store.Current!.Directory);
        Assert.Equal(("1.1.0", 1L), (outcome.Version, outcome.Counter));
        AssertServes(Own(outcome.Served!), _p.First);
    }

    [Fact]
    public async Task DeployAsync_GoldenOutputsDoNotMatch_RolledBackAndPreviousServes()
    {
        var (deployer, store, _) = Create(new HealthGateOptions());
        Own((await deployer.DeployAsync(new Uri(_p.Sign(_p.First, "gold-v1", counter: 1)))).Served!);
        string previous = store.Current!.Directory;

        var outcome = await deployer.DeployAsync(new Uri(_p.Sign(_p.Second, "gold-v2", counter: 2, goldenOffset: 0.05f)));

        Assert.Equal(DeploymentStatus.RolledBack, outcome.Status);
        Assert.Contains("golden outputs do not match", outcome.Reason, StringComparison.Ordinal);
        Assert.Contains("> tolerance 0.0001", outcome.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("latency", outcome.Health!.Reason, StringComparison.Ordinal);
        Assert.InRange(outcome.Health.MaxAbsDifference, 0.049, 0.051);
        Assert.Equal(previous, store.Current!.Directory);
        Assert.Null(store.Previous); // the failed model can never be rolled back to
        AssertServes(Own(outcome.Served!), _p.First);
        Assert.Equal(DeploymentStatus.Failed, deployer.RollBack().Status);
        Assert.Equal(previous, store.Current!.Directory);
    }

    [Fact]
    public async Task DeployAsync_FirstPackageFailsGate_RolledBackToNothing()
    {
        var (deployer, store, _) = Create(new HealthGateOptions());

        var outcome = await deployer.DeployAsync(new Uri(_p.Sign(_p.First, "first-bad", counter: 1, goldenOffset: -0.5f)));

        Assert.Equal(DeploymentStatus.RolledBack, outcome.Status);
        Assert.Contains("there is no previous model", outcome.Reason, StringComparison.Ordinal);
        Assert.Null(outcome.Served);
        Assert.Null(store.Current);
        Assert.Null(deployer.OpenCurrent());
    }

    [Fact]
    public async Task DeployAsync_TamperedOrUntrustedPackage_RejectedAndCurrentUnchanged()
    {
        var (deployer, store, _) = Create(new HealthGateOptions());
        Own((await deployer.DeployAsync(new Uri(_p.Sign(_p.First, "tamper-v1", counter: 1)))).Served!);
        Own((await deployer.DeployAsync(new Uri(_p.Sign(_p.Second, "tamper-v2", counter: 2)))).Served!);
        var (current, previous) = (store.Current!.Directory, store.Previous!.Directory);

        string tampered = _p.Sign(_p.Second, "tampered", counter: 3);
        byte[] bytes = await File.ReadAllBytesAsync(tampered);
        bytes[bytes.Length / 2] ^= 0x10;
        await File.WriteAllBytesAsync(tampered, bytes);
        using var stranger = SigningKey.Create();
        string untrusted = _p.Sign(_p.Second, "untrusted", counter: 3, key: stranger);

        foreach (var (path, reason) in new[] { (tampered, ""), (untrusted, nameof(PackageRejection.UntrustedKey)) })
        {
            var outcome = await deployer.DeployAsync(new Uri(path));
            Assert.Equal(DeploymentStatus.Rejected, outcome.Status);
            Assert.Contains("Package rejected (" + reason, outcome.Reason, StringComparison.Ordinal);
            Assert.Null(outcome.Served);
            Assert.Null(outcome.Health);
            Assert.Equal(("1.2.0", 2L), (outcome.Version, outcome.Counter));
            Assert.Equal(current, store.Current!.Directory);
            Assert.Equal(previous, store.Previous!.Directory);
        }

        // The operator's rollback still goes to the model before.
        var back = deployer.RollBack();
        Assert.Equal(DeploymentStatus.RolledBack, back.Status);
        Assert.Equal(previous, store.Current!.Directory);
        AssertServes(Own(back.Served!), _p.First);
    }

    [Fact]
    public async Task DeployAsync_FetchFails_FailedAndNothingChanged()
    {
        var (deployer, store, _) = Create(new HealthGateOptions());

        var outcome = await deployer.DeployAsync(new Uri(Path.Combine(_dir, "missing.tar")));

        Assert.Equal(DeploymentStatus.Failed, outcome.Status);
        Assert.Contains("missing.tar", outcome.Reason, StringComparison.Ordinal);
        Assert.Null(store.Current);
    }

    /// <summary>The served model computes the golden features its package recorded, and predicts every image.</summary>
    private void AssertServes(ServedModel served, string package)
    {
        float[] expected = DeploymentPackages.GoldenFeatures(package);
        float[] actual = served.Features.Extract(_p.Images, [0, 1]);
        Assert.Equal(expected.Length, actual.Length);
        Assert.All(expected.Zip(actual), pair => Assert.Equal(pair.First, pair.Second, 1e-4f));
        var predictions = served.Predictor!.FromFeatures(served.Features.Extract(_p.Images), _p.Images.Count);
        Assert.Equal(_p.Images.Count, predictions.Count);
        Assert.All(predictions, p => Assert.Equal(1f, p.Probabilities.Sum(), 1e-4f));
    }

    [Fact]
    public async Task InstallLocal_OnTheCurrentModel_OpensTheDeviceVersion_AndOnAModelNoLongerCurrent_IsRefused()
    {
        var (deployer, store, _) = Create(new HealthGateOptions());
        Own((await deployer.DeployAsync(new Uri(_p.Sign(_p.First, "local-v1", counter: 1)))).Served!);
        var parent = store.Current!;
        var origin = new DeviceOrigin(1, "1.1.0", "op-1", "progressive", DateTimeOffset.UnixEpoch);

        var served = Own(deployer.InstallLocal(parent, new Dictionary<string, string>(), [PackageFileRoles.Weights], "1.1.0+device.1", origin));

        Assert.Equal(origin, served.Installed.Manifest.DeviceMade);
        Assert.Equal(store.Current!.Directory, served.Installed.Directory);
        Assert.True(served.CheckHealth().Passed);
        // The device version is current now, so its parent is no longer: installing from it again is refused, and nothing changes.
        var refused = Assert.Throws<AgentException>(() => deployer.InstallLocal(parent, new Dictionary<string, string>(), [], "1.1.0+device.2", origin));
        Assert.Equal(AgentErrorCode.ModelChanged, refused.Code);
        Assert.Equal(served.Installed.Directory, store.Current!.Directory);
        Assert.Equal(parent.Directory, deployer.RollBack().Served is { } back ? Own(back).Installed.Directory : null);
    }

    private (Deployer Deployer, ModelStore Store, PackageFetcher Fetcher) Create(HealthGateOptions options, ModelStore? store = null)
    {
        store ??= new ModelStore(Path.Combine(_dir, "store"), _p.Trusted);
        var fetcher = Own(new PackageFetcher(Path.Combine(_dir, "downloads")));
        return (new Deployer(store, fetcher, new HealthGate(options), NullLogger<Deployer>.Instance, CpuOnly), store, fetcher);
    }

    private T Own<T>(T disposable) where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }
}
