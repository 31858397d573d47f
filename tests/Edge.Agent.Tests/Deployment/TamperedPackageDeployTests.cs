using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeTL.Agent.Deployment;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Integration;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Packaging;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace EdgeTL.Agent.Tests.Deployment;

/// <summary>
/// The runtime's package tamper cases (bit flips, truncation, path traversal, links, oversize,
/// version rollback, untrusted key), run through the agent's deploy path on real ResNet-18
/// packages: file:// URL → fetcher → store install → health gate; and a few through a real
/// agent's <c>deploy</c> command over MQTT. Every one must be Rejected with its reason while the
/// old model keeps serving.
/// </summary>
[Collection(SharedPackages.Name)]
public sealed class TamperedPackageDeployTests(DeploymentPackages packages, ITestOutputHelper output) : IDisposable
{
    /// <summary>Bit flips per run: one in each tar region (headers, manifest, signature, key id, bodies, padding, end marker), the rest split between signed metadata and file bodies.</summary>
    private const int Flips = 64;
    private const int Seed = 20261129;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);
    private static readonly SessionOptionsSpec CpuOnly = new() { Providers = [ExecutionProvider.Cpu] };
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-tamper-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Tampered_packages_are_each_rejected_by_the_deployer_for_their_reason_and_the_old_model_keeps_serving()
    {
        var store = new ModelStore(Path.Combine(_dir, "store"), packages.Trusted);
        using var fetcher = new PackageFetcher(Path.Combine(_dir, "downloads"));
        var deployer = new Deployer(store, fetcher, new HealthGate(new HealthGateOptions()), NullLogger<Deployer>.Instance, CpuOnly);
        var first = await deployer.DeployAsync(new Uri(packages.Sign(packages.First, "tpd-v2", counter: 2)));
        Assert.Equal(DeploymentStatus.Promoted, first.Status);
        using var served = first.Served!;
        string current = store.Current!.Directory;
        string target = packages.Sign(packages.Second, "tpd-v3", counter: 3);
        var clock = Stopwatch.StartNew();
        var rejected = new Dictionary<PackageRejection, int>();
        int accepted = 0, cases = 0;

        async Task Expect(string path, PackageRejection reason, string what)
        {
            cases++;
            var outcome = await deployer.DeployAsync(new Uri(path));
            if (outcome.Status != DeploymentStatus.Rejected)
                accepted++;
            Assert.True(outcome.Status == DeploymentStatus.Rejected, $"{what}: {outcome.Status}: {outcome.Reason}");
            Assert.True(outcome.Reason.Contains($"Package rejected ({reason})", StringComparison.Ordinal), $"{what}: expected {reason}, got {outcome.Reason}");
            Assert.Null(outcome.Served);
            Assert.Equal(AgentErrorCode.PackageRejected, outcome.Code);
            Assert.Equal(("1.2.0", 2L), (outcome.Version, outcome.Counter));
            Assert.Equal(current, store.Current!.Directory);
            rejected[reason] = rejected.GetValueOrDefault(reason) + 1;
        }

        var regions = PackageTampering.Regions(target);
        var flips = PackageTampering.FlipOffsets(regions, Flips, Seed);
        foreach (var (offset, region) in flips)
        {
            byte mask = (byte)(1 << (int)(offset % 8));
            byte flipped = PackageTampering.Flip(target, offset, mask);
            try
            {
                await Expect(target, PackageTampering.Expected(region, flipped), $"bit flip at {offset} in {region.Part}");
            }
            finally
            {
                PackageTampering.Flip(target, offset, mask);
            }
        }
        var flipTime = clock.Elapsed;

        string cut = Path.Combine(_dir, "cut.tar");
        File.Copy(target, cut);
        long length = new FileInfo(cut).Length;
        foreach (long point in new[] { length - 1, length - 512, length - 1025, length / 2, 700, 512, 1 })
        {
            using (var stream = new FileStream(cut, FileMode.Open, FileAccess.Write))
                stream.SetLength(point);
            await Expect(cut, PackageRejection.Truncated, $"truncated at {point}");
        }
        File.Delete(cut);

        string escape = Path.Combine(_dir, "escape.tar");
        PackageTampering.WithExtraEntry(target, escape, PackageTampering.Header("../escaped.txt", 5, '0'), "owned");
        await Expect(escape, PackageRejection.PathTraversal, "zip-slip entry");
        Assert.False(File.Exists(Path.Combine(_dir, "escaped.txt")));
        Assert.False(File.Exists(Path.Combine(store.Root, "escaped.txt")));
        string linked = Path.Combine(_dir, "linked.tar");
        PackageTampering.WithExtraEntry(target, linked, PackageTampering.Header("etc-passwd", 0, '2', "/etc/passwd"), "");
        await Expect(linked, PackageRejection.Link, "symlink entry");
        PackageTampering.WithExtraEntry(target, linked, PackageTampering.Header("hard", 0, '1', "backbone.onnx"), "");
        await Expect(linked, PackageRejection.Link, "hard-link entry");
        string huge = Path.Combine(_dir, "huge.tar");
        PackageTampering.WithExtraEntry(target, huge, PackageTampering.Header("big.bin", 600L << 20, '0'), "");
        await Expect(huge, PackageRejection.TooLarge, "600 MiB entry header");
        await Expect(packages.Sign(packages.Second, "tpd-v1", counter: 1), PackageRejection.Rollback, "version rollback to counter 1");
        using var stranger = SigningKey.Create();
        await Expect(packages.Sign(packages.Second, "tpd-stranger", counter: 3, key: stranger), PackageRejection.UntrustedKey, "untrusted key");

        Assert.Equal(0, accepted);
        Assert.Equal(store.Current!.Directory, current);
        Assert.Null(store.Previous);
        Assert.Empty(Directory.GetDirectories(store.Root, ".staging-*"));
        Assert.True(rejected.Count >= 8, string.Join(", ", rejected));
        AssertPredicts(served);
        output.WriteLine($"0 of {cases} tampered packages accepted ({flips.Count} bit flips in {flipTime.TotalSeconds:F1} s, {cases - flips.Count} other cases); by reason: {string.Join(", ", rejected.Select(r => $"{r.Key} {r.Value}"))}; {clock.Elapsed.TotalSeconds:F1} s in all");

        // The control: with every flip undone the same package is accepted, so each refusal above was the tampering's.
        var control = await deployer.DeployAsync(new Uri(target));
        Assert.True(control.Status == DeploymentStatus.Promoted, control.Reason);
        control.Served!.Dispose();
    }

    [Fact]
    public async Task Tampered_packages_sent_to_a_running_agent_are_rejected_with_their_reason_and_the_old_model_keeps_serving()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");
        await using var harness = new AgentHarness(packages.Key, broker.Port);
        var agent = await harness.StartAsync();
        TestClient.AssertStatus(await DeployAsync(cloud, packages.Sign(packages.First, "tpa-v1", counter: 1)), "ok");
        string target = packages.Sign(packages.Second, "tpa-v2", counter: 2);
        var regions = PackageTampering.Regions(target);
        var manifest = regions.First(r => r.Part == ManifestFiles.Manifest);
        var backbone = regions.Where(r => r.Reason == PackageRejection.HashMismatch).MaxBy(r => r.End - r.Start)!;
        var header = regions.First(r => r.Part.StartsWith("tar header", StringComparison.Ordinal));
        int sent = 0;

        async Task Expect(string path, PackageRejection reason)
        {
            sent++;
            var result = await DeployAsync(cloud, path);
            TestClient.AssertStatus(result, "failed");
            Assert.Equal("Rejected", result["data"]!["status"]!.GetValue<string>());
            Assert.Equal("PackageRejected", result["data"]!["code"]!.GetValue<string>());
            Assert.Contains($"Package rejected ({reason})", result["message"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(1, result["data"]!["counter"]!.GetValue<long>());
            Assert.Equal(1, agent.Server.Counter);
        }

        foreach (var region in new[] { manifest, backbone, header })
        {
            long offset = (region.Start + region.End) / 2;
            PackageTampering.Flip(target, offset, 0x04);
            await Expect(target, region.Reason);
            PackageTampering.Flip(target, offset, 0x04);
        }
        string cut = Path.Combine(_dir, "cut.tar");
        File.Copy(target, cut);
        using (var stream = new FileStream(cut, FileMode.Open, FileAccess.Write))
            stream.SetLength(stream.Length / 2);
        await Expect(cut, PackageRejection.Truncated);
        string escape = Path.Combine(_dir, "escape.tar");
        PackageTampering.WithExtraEntry(target, escape, PackageTampering.Header("../../escaped.txt", 5, '0'), "owned");
        await Expect(escape, PackageRejection.PathTraversal);
        using var stranger = SigningKey.Create();
        await Expect(packages.Sign(packages.Second, "tpa-stranger", counter: 2, key: stranger), PackageRejection.UntrustedKey);

        var status = await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "status"), Wait);
        Assert.Equal("1.1.0", status["data"]!["model"]!["version"]!.GetValue<string>());
        Assert.Equal(1, status["data"]!["model"]!["counter"]!.GetValue<long>());
        var prediction = TestClient.AssertStatus(await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "predict",
            new JsonObject { ["image"] = Convert.ToBase64String(packages.Images.EncodePng(1)) }), Wait), "ok");
        Assert.Contains(prediction["data"]!["label"]!.GetValue<string>(), packages.Images.ClassNames);
        Assert.Equal("fmnist-resnet18@1.1.0", prediction["data"]!["model"]!.GetValue<string>());
        var events = await TestClient.WaitAsync(() => cloud.Metrics("deployment") is { } m && m.Count == sent + 1 ? m : null, Wait, $"{sent + 1} deployment events");
        Assert.Equal(["Promoted", .. Enumerable.Repeat("Rejected", sent)], events.Select(e => e["data"]!["status"]!.GetValue<string>()));
        output.WriteLine($"0 of {sent} tampered packages accepted by the agent; still serving counter {agent.Server.Counter}");
    }

    private static async Task<JsonObject> DeployAsync(TestClient cloud, string path) =>
        await cloud.FinalResultAsync(await cloud.SendAsync("test", "dev1", "deploy", new JsonObject { ["url"] = new Uri(path).AbsoluteUri }), Wait);

    private void AssertPredicts(ServedModel served)
    {
        var predictions = served.Predictor!.FromFeatures(served.Features.Extract(packages.Images), packages.Images.Count);
        Assert.Equal(packages.Images.Count, predictions.Count);
        Assert.All(predictions, p => Assert.Equal(1f, p.Probabilities.Sum(), 1e-4f));
    }
}
