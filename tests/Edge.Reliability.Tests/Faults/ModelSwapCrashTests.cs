using EdgeTL.Agent.Tests.Deployment;
using EdgeTL.Reliability.Tests.Harness;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Packaging;
using Xunit.Abstractions;

namespace EdgeTL.Reliability.Tests.Faults;

/// <summary>
/// R5: a process that installs real signed packages (two ResNet-18 models) into the agent's
/// <see cref="ModelStore"/> one after another, with rollbacks in between, is killed with SIGKILL at
/// random points, 50 times. After every kill the store opens on a complete model whose files
/// match its manifest's SHA-256, with nothing left half-done; every 10th restart also runs the
/// model's golden check. The 200-kill run is <c>bench/soak.sh r5</c>.
/// </summary>
public sealed class ModelSwapCrashTests(ITestOutputHelper output, DeploymentPackages packages) : IClassFixture<DeploymentPackages>
{
    private readonly DeploymentPackages _packages = packages;

    [Fact]
    public void SIGKILL_at_random_points_of_a_model_swap_always_restarts_on_a_complete_model_matching_its_manifest()
    {
        int kills = SoakSettings.SwapKills;
        using var dir = new TempDirectory("edgetl-r5-");
        string keys = Path.Combine(dir.Path, "keys");
        Directory.CreateDirectory(keys);
        File.WriteAllText(Path.Combine(keys, "release.pem"), _packages.Key.PublicPem());
        string root = Path.Combine(dir.Path, "models");
        string[] packages = [_packages.Sign(_packages.First, "swap-a", counter: 7), _packages.Sign(_packages.Second, "swap-b", counter: 7)];
        var random = new Random(5);
        int installsSeen = 0, rollbacksSeen = 0, goldenChecks = 0;
        var servedVersions = new HashSet<string>(StringComparer.Ordinal);

        for (int kill = 0; kill < kills; kill++)
        {
            var lines = CrashTarget.RunAndKill(["swap", root, keys, .. packages], TimeSpan.FromMilliseconds(random.Next(0, 900)));
            installsSeen += lines.Count(l => l.StartsWith("installed", StringComparison.Ordinal));
            rollbacksSeen += lines.Count(l => l.StartsWith("rolled-back", StringComparison.Ordinal));
            Assert.DoesNotContain(lines, l => l.StartsWith("stderr:", StringComparison.Ordinal));

            // The restart: what the agent does when it starts.
            var store = new ModelStore(root, _packages.Trusted, keepVersions: 3);
            var served = store.OpenVerified(out string? repair);
            Assert.Null(repair);
            Assert.Empty(Directory.GetDirectories(root, ".staging-*"));
            if (installsSeen == 0)
                continue;   // killed before the first install finished: nothing to serve yet
            Assert.NotNull(served);
            Assert.Null(ModelStore.FindDamage(served));
            servedVersions.Add(Path.GetFileName(served.Directory));
            if (kill % 10 == 9)
            {
                using var model = ServedModel.Open(served);
                var golden = model.CheckHealth();
                Assert.True(golden.Passed, golden.ToString());
                goldenChecks++;
            }
        }
        output.WriteLine($"{kills} SIGKILLs during {installsSeen} completed installs and {rollbacksSeen} rollbacks; " +
            $"every restart served a complete model ({servedVersions.Count} distinct installs served); {goldenChecks} golden checks passed");
        // The target does nothing but swap after "ready", so every kill lands inside one; this only
        // checks that swaps also completed (a target too slow to finish any would prove little).
        Assert.True(installsSeen >= 5, $"only {installsSeen} installs completed");
    }

    /// <summary>
    /// R5 on the device-made path (issue 17): a process that makes device versions of what it serves, as
    /// the agent does after <c>adapt</c> or a backbone <c>finetune</c> (import the served ONNX, re-normalize
    /// the stem, export, check in ONNX Runtime, new golden features, <see cref="ModelStore.InstallLocal"/>),
    /// with rollbacks in between, is killed with SIGKILL at random points. Every restart serves a complete
    /// model, the package or a device version, never a mix: files match the manifest's hashes, and the
    /// golden check passes on every device version served. The 200-kill run is <c>bench/soak.sh r5</c>.
    /// </summary>
    [Fact]
    public void SIGKILL_at_random_points_of_a_device_made_export_and_swap_always_restarts_on_a_complete_model()
    {
        int kills = SoakSettings.DeviceSwapKills;
        using var dir = new TempDirectory("edgetl-r5d-");
        string keys = Path.Combine(dir.Path, "keys");
        Directory.CreateDirectory(keys);
        File.WriteAllText(Path.Combine(keys, "release.pem"), _packages.Key.PublicPem());
        string root = Path.Combine(dir.Path, "models");
        string package = _packages.Sign(_packages.First, "device-swap", counter: 7);
        var random = new Random(17);   // the first version completes ~3 s after "ready" (libtorch warm-up), later ones every ~1 s
        int madeSeen = 0, rollbacksSeen = 0, deviceServed = 0, goldenChecks = 0;

        for (int kill = 0; kill < kills; kill++)
        {
            var lines = CrashTarget.RunAndKill(["device", root, keys, package], TimeSpan.FromMilliseconds(random.Next(500, 5000)));
            madeSeen += lines.Count(l => l.StartsWith("device", StringComparison.Ordinal));
            rollbacksSeen += lines.Count(l => l.StartsWith("rolled-back", StringComparison.Ordinal));
            // libtorch's own warnings (NNPACK on this CPU) go to stderr; nothing else may.
            Assert.DoesNotContain(lines, l => l.StartsWith("stderr:", StringComparison.Ordinal) && !l.Contains("NNPACK", StringComparison.Ordinal));

            var store = new ModelStore(root, _packages.Trusted, keepVersions: 3);
            var served = store.OpenVerified(out string? repair);
            Assert.Null(repair);
            Assert.Empty(Directory.GetDirectories(root, ".staging-*"));
            Assert.NotNull(served);   // the package is installed before "ready"
            Assert.Null(ModelStore.FindDamage(served));
            if (served.Manifest.DeviceMade is null)
                continue;
            deviceServed++;
            Assert.Equal(7, served.Manifest.DeviceMade.ParentCounter);
            Assert.Contains("+device.", served.Manifest.Version, StringComparison.Ordinal);
            using var model = ServedModel.Open(served);
            var golden = model.CheckHealth();
            Assert.True(golden.Passed, golden.ToString());
            goldenChecks++;
        }
        output.WriteLine($"{kills} SIGKILLs during {madeSeen} completed device versions and {rollbacksSeen} rollbacks; " +
            $"every restart served a complete model ({deviceServed} times a device version, {goldenChecks} golden checks passed)");
        Assert.True(madeSeen >= 5, $"only {madeSeen} device versions completed");
        Assert.True(deviceServed >= 3, $"a device version was served after only {deviceServed} restarts");
    }
}
