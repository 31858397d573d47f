using System.Text.Json.Nodes;

namespace EdgeTL.Cloud.Tests;

/// <summary>
/// The acceptance path: pretrain → package → keys new → sign → verify → publish, deployed by a real
/// agent (in this process) over a real mosquitto, seen through <c>publish --wait-devices</c> and
/// <c>fleet status --json</c>; and a package signed by an untrusted key refused fleet-visibly.
/// </summary>
[Collection(PretrainedGroup.Name)]
public sealed class DeploymentTests(PretrainedFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-cloud-deploy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Publish_SignedPackage_RealAgentPromotesIt_AndAnUntrustedOneIsRejectedVisibly()
    {
        using var broker = new Mosquitto();
        await using var agent = await TestAgents.StartAsync(_dir, fixture.PublicKey, broker.Port, "cam-01");

        // Re-sign the fixture's package as release 2 (counter 2) and check it as a device would.
        string release = Path.Combine(_dir, "release-2.tar");
        await Cli.ExpectAsync(0, "sign", "--package", fixture.Package, "--key", fixture.PrivateKey, "--counter", "2", "--version", "2.0.0", "--out", release);
        await Cli.ExpectAsync(0, "verify", "--package", release, "--trusted", fixture.Keys);

        var published = await Cli.ExpectAsync(0, "publish", "--broker", broker.Address, "--fleet", "plant", "--group", "line1",
            "--url", new Uri(release).AbsoluteUri, "--package", release, "--wait-devices", "cam-01", "--timeout", "90", "--json");
        var report = JsonNode.Parse(published.Output)!.AsObject();
        Assert.True(report["allPromoted"]!.GetValue<bool>(), published.ToString());
        Assert.Equal("edgetl/plant/group/line1/deploy", report["topic"]!.GetValue<string>());
        var outcome = report["devices"]!.AsArray().Single()!.AsObject();
        Assert.Equal(("cam-01", "Promoted", "2.0.0", 2L), (outcome["device"]!.GetValue<string>(), outcome["status"]!.GetValue<string>(), outcome["version"]!.GetValue<string>(), outcome["counter"]!.GetValue<long>()));
        Assert.Equal(2, agent.Server.Counter);

        var device = await DeviceStatusAsync(broker, "cam-01", d => d["counter"]?.GetValue<long>() == 2);
        Assert.Equal("online", device["state"]!.GetValue<string>());
        Assert.Equal("2.0.0", device["version"]!.GetValue<string>());
        Assert.Equal("Promoted", device["lastDeployment"]!.GetValue<string>());

        // A package signed by a key the device does not trust: refused, and the fleet can see why.
        await Cli.ExpectAsync(0, "keys", "new", "--out", Path.Combine(_dir, "rogue"), "--name", "rogue");
        string rogue = Path.Combine(_dir, "rogue-3.tar");
        await Cli.ExpectAsync(0, "sign", "--package", fixture.Package, "--key", Path.Combine(_dir, "rogue", "rogue.key.pem"), "--counter", "3", "--version", "3.0.0", "--out", rogue);
        var refused = await Cli.ExpectAsync(ExitCodes.DeploymentFailed, "publish", "--broker", broker.Address, "--fleet", "plant", "--group", "line1",
            "--url", new Uri(rogue).AbsoluteUri, "--package", rogue, "--wait-devices", "cam-01", "--timeout", "60", "--json");
        var rejected = JsonNode.Parse(refused.Output)!["devices"]!.AsArray().Single()!.AsObject();
        Assert.Equal("Rejected", rejected["status"]!.GetValue<string>());
        Assert.Contains("UntrustedKey", rejected["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(2, agent.Server.Counter);   // still serving release 2

        var after = await DeviceStatusAsync(broker, "cam-01", d => d["lastDeployment"]?.GetValue<string>() == "Rejected");
        Assert.Equal(2, after["counter"]!.GetValue<long>());
        Assert.Contains("UntrustedKey", after["lastDeploymentReason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("desired-3", after["lastDeploymentCommand"]!.GetValue<string>());

        // The plain table names the device and the refusal too.
        var table = await Cli.ExpectAsync(0, "fleet", "status", "--broker", broker.Address, "--fleet", "plant");
        Assert.Contains("cam-01", table.Output, StringComparison.Ordinal);
        Assert.Contains("Rejected", table.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_DeviceThatNeverAnswers_TimesOutWithExitCode7()
    {
        using var broker = new Mosquitto();
        var run = await Cli.ExpectAsync(ExitCodes.DeploymentTimedOut, "publish", "--broker", broker.Address, "--fleet", "plant", "--group", "line1",
            "--url", new Uri(fixture.Package).AbsoluteUri, "--package", fixture.Package, "--wait-devices", "ghost", "--timeout", "1", "--json");
        Assert.Equal("Pending", JsonNode.Parse(run.Output)!["devices"]![0]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Publish_BrokerDown_ExitCode8()
    {
        int port;
        using (var broker = new Mosquitto())
            port = broker.Port;
        await Cli.ExpectAsync(ExitCodes.BrokerUnavailable, "fleet", "status", "--broker", $"127.0.0.1:{port}", "--fleet", "plant");
    }

    /// <summary><c>fleet status --json</c> until the device's row satisfies <paramref name="done"/> (the retained state follows the outbox).</summary>
    private static async Task<JsonObject> DeviceStatusAsync(Mosquitto broker, string device, Func<JsonObject, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var run = await Cli.ExpectAsync(0, "fleet", "status", "--broker", broker.Address, "--fleet", "plant", "--timeout", "2", "--json");
            var row = JsonNode.Parse(run.Output)!["devices"]!.AsArray().Select(d => d!.AsObject()).FirstOrDefault(d => d["device"]!.GetValue<string>() == device);
            if (row is not null && done(row))
                return row;
            Assert.True(DateTime.UtcNow < deadline, $"fleet status never showed the expected row for {device}: {run.Output}");
            await Task.Delay(200);
        }
    }
}
