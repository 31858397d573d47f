using System.CommandLine;
using System.Text.Json.Nodes;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Tests.Deployment;
using EdgeTL.Agent.Tests.Integration;

using EdgeTL.Control;

namespace EdgeTL.Agent.Tests.Hosting;

/// <summary><c>edgetl-agent send</c> against a real in-process agent: a job (accepted → ok), refusals, duplicates, and the exit codes of the command line's own errors.</summary>
[Collection(SharedPackages.Name)]
public sealed class SendCliTests(DeploymentPackages packages) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-send-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_deploy_job_prints_accepted_then_ok_and_refusals_exit_with_their_code()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        await using var cloud = await TestClient.ConnectAsync(broker.Port, "test", "dev1");   // validates every payload against the schemas
        await using var harness = new AgentHarness(packages.Key, broker.Port);
        var agent = await harness.StartAsync();
        string at = $"127.0.0.1:{broker.Port}";
        string url = new Uri(packages.Sign(packages.First, "send-v1", counter: 1)).AbsoluteUri;

        // A job, as JSON lines: accepted, then the final result, on the id's topic.
        var deploy = await Send("deploy", "--args", $$"""{"url": "{{url}}"}""", "--id", "send-deploy-1", "--json", "--broker", at, "--fleet", "test", "--device", "dev1");
        Assert.True(deploy.Code == 0, deploy.ToString());
        var lines = deploy.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(["accepted", "ok"], lines.Select(l => l["status"]!.GetValue<string>()));
        Assert.All(lines, l => Assert.Equal("send-deploy-1", l["id"]!.GetValue<string>()));
        Assert.Equal("Promoted", lines[1]["data"]!["status"]!.GetValue<string>());
        Assert.Equal(1, agent.Server.Counter);

        // The same id again: duplicate (7), carrying the first run's final result.
        var again = await Send("deploy", "--args", $$"""{"url": "{{url}}"}""", "--id", "send-deploy-1", "--json", "--broker", at, "--fleet", "test", "--device", "dev1");
        Assert.True(again.Code == SendExitCodes.Duplicate, again.ToString());
        var duplicate = JsonNode.Parse(again.Output.Trim())!.AsObject();
        Assert.Equal("duplicate", duplicate["status"]!.GetValue<string>());
        Assert.Equal("ok", duplicate["data"]!["firstResult"]!["status"]!.GetValue<string>());

        // Human summaries by default; arguments from a file.
        string file = Path.Combine(_dir, "config.json");
        await File.WriteAllTextAsync(file, """{"coldStartShots": 1000}""");
        var config = await Send("set-config", "--args", "@" + file, "--broker", at, "--fleet", "test", "--device", "dev1");
        Assert.True(config.Code == 0, config.ToString());
        Assert.Contains("ok: Settings updated.", config.Output, StringComparison.Ordinal);
        Assert.Equal(1000, agent.Settings.ColdStartShots);

        // Arguments the device refuses: invalidArguments, rc 3, the device's message naming the field.
        var bad = await Send("finetune", "--args", """{"epochs": -2}""", "--broker", at, "--fleet", "test", "--device", "dev1");
        Assert.True(bad.Code == SendExitCodes.Failed, bad.ToString());
        Assert.Contains("invalidArguments: args.epochs must be between 1 and 1000.", bad.Output, StringComparison.Ordinal);

        // A job that runs and fails: accepted, then failed with its code.
        string missing = new Uri(Path.Combine(_dir, "missing.tar")).AbsoluteUri;
        var failed = await Send("deploy", "--args", $$"""{"url": "{{missing}}"}""", "--broker", at, "--fleet", "test", "--device", "dev1");
        Assert.True(failed.Code == SendExitCodes.Failed, failed.ToString());
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(failed.Output, @"accepted: deploy started[^\n]*\n[^\n]*failed \[FetchFailed\]"), failed.ToString());

        // Read-only commands still answer, and status/predict (now on the same path) still work.
        Assert.Equal(0, (await Send("status", "--broker", at, "--fleet", "test", "--device", "dev1")).Code);
    }

    [Fact]
    public async Task Command_line_errors_exit_2_an_unreachable_broker_8_and_a_silent_device_124()
    {
        await using var broker = await EmbeddedBroker.StartAsync();
        string at = $"127.0.0.1:{broker.Port}";
        string[] remote = ["--broker", at, "--fleet", "test", "--device", "nobody"];

        var unknown = await Send(["reboot", .. remote]);
        Assert.Equal(2, unknown.Code);
        Assert.Contains("'reboot' is not a command. Known: adapt, cancel, deploy", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await Send(["finetune", "--args", "{epochs: 3", .. remote])).Code);
        Assert.Equal(2, (await Send(["finetune", "--args", "[3]", .. remote])).Code);
        Assert.Equal(2, (await Send(["finetune", "--args", "@" + Path.Combine(_dir, "none.json"), .. remote])).Code);
        Assert.Equal(2, (await Send(["status", "--id", "has space", .. remote])).Code);
        Assert.Equal(2, (await Send(["status", "--expires", "0", .. remote])).Code);
        Assert.Equal(2, (await Send("status", "--broker", "nonsense")).Code);
        Assert.Equal(2, (await Send("status", "--broker", at, "--device", "a/b")).Code);
        Assert.Equal(2, (await Send("status", "--no-such-option")).Code);   // a parse error is a bad command line too

        Assert.Equal(8, (await Send("status", "--broker", $"127.0.0.1:{EmbeddedBroker.FreePort()}", "--fleet", "test", "--device", "dev1")).Code);
        var silent = await Send(["status", "--timeout", "1", .. remote]);
        Assert.Equal(124, silent.Code);
        Assert.Contains("did not answer", silent.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_documents_every_exit_code()
    {
        var output = new StringWriter();
        AgentCli.Build().Parse(["send", "--help"]).Invoke(new InvocationConfiguration { Output = output });
        foreach (string code in new[] { "0 ok", "2 bad command line", "3 failed", "4 clock", "5 try later", "6 not finished", "7 duplicate", "8 broker unreachable", "124" })
            Assert.Contains(code, System.Text.RegularExpressions.Regex.Replace(output.ToString(), @"\s+", " "), StringComparison.Ordinal);
    }

    private sealed record Outcome(int Code, string Output, string Error)
    {
        public override string ToString() => $"rc {Code}\nstdout: {Output}\nstderr: {Error}";
    }

    private static async Task<Outcome> Send(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await AgentCommandLine.InvokeAsync(["send", .. args], new InvocationConfiguration { Output = output, Error = error });
        return new Outcome(code, output.ToString(), error.ToString());
    }
}
