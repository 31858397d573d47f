using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Resources;
using EdgeTL.Agent.Tests.Resources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeTL.Agent.Tests.Hosting;

/// <summary>
/// Issue 16 (item 6, part of 4): what an operator driving <c>edgetl-agent</c> from a shell met.
/// Each test is named after the defect it pins.
/// </summary>
public sealed class ConfigurationDefectTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // 1. EDGETL_Agent__TelemetryInterval=soon crashed `run` with a stack trace and rc 1, while
    //    EDGETL_Agent__Broker__Port=99999 got a message and rc 2.
    [Fact]
    public async Task Unparsable_TelemetryInterval_soon_crashed_run_with_a_stack_trace_and_rc_1()
    {
        var soon = await AgentCliProcess.RunAsync(_dir, new Dictionary<string, string> { ["EDGETL_Agent__TelemetryInterval"] = "soon" }, ["run"]);
        var port = await AgentCliProcess.RunAsync(_dir, new Dictionary<string, string> { ["EDGETL_Agent__Broker__Port"] = "99999" }, ["run"]);

        Assert.Equal((2, "error: invalid settings: Agent:TelemetryInterval 'soon' is not a time span (hh:mm:ss, e.g. 00:01:00).\n"), (soon.ExitCode, soon.Error));
        Assert.Equal((2, "error: invalid settings: Agent:Broker:Port 99999 is not a TCP port.\n"), (port.ExitCode, port.Error));
        Assert.DoesNotContain(" at ", soon.Output + port.Output, StringComparison.Ordinal);   // no stack trace on stdout either (the host's log)
    }

    [Theory]
    [InlineData("""{ "TelemetryInterval": "soon" }""", "Agent:TelemetryInterval 'soon' is not a time span (hh:mm:ss, e.g. 00:01:00).")]
    [InlineData("""{ "Broker": { "KeepAlive": "15s" } }""", "Agent:Broker:KeepAlive '15s' is not a time span (hh:mm:ss, e.g. 00:01:00).")]
    [InlineData("""{ "Broker": { "Port": "mqtt" } }""", "Agent:Broker:Port 'mqtt' is not a whole number (e.g. 32).")]
    [InlineData("""{ "KeepVersions": "99999999999" }""", "Agent:KeepVersions '99999999999' is not a whole number (e.g. 32).")]
    [InlineData("""{ "MaxLoadPerCore": "0,9" }""", "Agent:MaxLoadPerCore '0,9' is not a number (e.g. 0.9, with '.' as the decimal point).")]
    [InlineData("""{ "Drift": { "Enabled": "yes" } }""", "Agent:Drift:Enabled 'yes' is not a boolean (true or false).")]
    [InlineData("""{ "broker": { "usetls": "on" } }""", "Agent:Broker:UseTls 'on' is not a boolean (true or false).")]
    public void Unparsable_value_fails_validation_naming_key_value_and_form_not_the_binders_exception(string agent, string expected)
    {
        string config = Path.Combine(_dir, "agent.json");
        File.WriteAllText(config, $$"""{ "Agent": {{agent}} }""");
        using var host = AgentHost.Build([], embedded: false, configFile: config);

        var e = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<AgentOptions>>().Value);

        Assert.Equal([expected], e.Failures);
    }

    [Fact]
    public void Unparsable_and_out_of_range_values_are_named_together()
    {
        string config = Path.Combine(_dir, "agent.json");
        File.WriteAllText(config, """{ "Agent": { "TelemetryInterval": "soon", "Broker": { "Port": 99999 }, "KeepVersions": 1 } }""");
        using var host = AgentHost.Build([], embedded: false, configFile: config);

        var e = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<AgentOptions>>().Value);

        Assert.Equal(
            ["Agent:TelemetryInterval 'soon' is not a time span (hh:mm:ss, e.g. 00:01:00).",
             "Agent:KeepVersions must be at least 2 (current and previous).",
             "Agent:Broker:Port 99999 is not a TCP port."],
            e.Failures);
    }

    [Fact]
    public async Task Missing_or_malformed_config_file_is_a_settings_error_with_rc_2_not_a_stack_trace()
    {
        string broken = Path.Combine(_dir, "broken.json");
        await File.WriteAllTextAsync(broken, """{ "Agent": { "Device": """);
        var error = new StringWriter();

        int missing = await Run(error, "run", "--config", Path.Combine(_dir, "nope.json"));
        int malformed = await Run(error, "run", "--config", broken);

        Assert.Equal((2, 2), (missing, malformed));
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.StartsWith("error: invalid settings: ", l, StringComparison.Ordinal));
        Assert.Contains("nope.json", lines[0], StringComparison.Ordinal);
        Assert.Contains("broken.json", lines[1], StringComparison.Ordinal);
    }

    // 2. A misspelt key (EDGETL_Agent__Devic=cam-7) was ignored without a word.
    [Fact]
    public async Task Misspelt_key_Devic_was_ignored_without_a_word()
    {
        string config = WriteRunnableConfig();

        var run = await AgentCliProcess.RunAsync(_dir, new Dictionary<string, string> { ["EDGETL_Agent__Devic"] = "cam-7" }, ["run", "--config", config],
            stopWhen: (output, _) => output.Contains(" running; data in ", StringComparison.Ordinal));

        const string Warning = "Agent:Devic is not a setting and is ignored; did you mean Agent:Device?";
        Assert.Null(run.ExitCode);                                                     // still running when stopped: a warning, not an error
        Assert.Equal($"warning: {Warning}\n", run.Error);                              // on stderr, before the host starts
        Assert.Contains(run.Output.Split('\n'), l => l.Contains("warn: ", StringComparison.Ordinal) && l.EndsWith(Warning, StringComparison.Ordinal));   // and logged at start
        Assert.Contains("Agent test/dev1 running", run.Output, StringComparison.Ordinal);   // Device kept its configured value
    }

    // 3. `run --help` named no configuration keys, and nothing showed the settings in force.
    [Fact]
    public async Task Run_help_named_no_configuration_source()
    {
        var output = new StringWriter();

        int rc = await AgentCli.Build().Parse(["run", "--help"]).InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output });

        Assert.Equal(0, rc);
        string help = string.Join(" ", output.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));   // the help wraps lines
        foreach (var expected in new[] { "appsettings.json", "/etc/edgetl/agent.json", "--config FILE", "EDGETL_Agent__<Key>", "edgetl-agent config", "docs/configuration.md" })
            Assert.Contains(expected, help, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_verb_printed_the_settings_in_force()
    {
        string config = Path.Combine(_dir, "site.json");
        await File.WriteAllTextAsync(config, """{ "Agent": { "Fleet": "site-a", "Broker": { "Username": "cam", "Password": "hunter2" } } }""");

        var run = await AgentCliProcess.RunAsync(_dir, new Dictionary<string, string> { ["EDGETL_Agent__Device"] = "cam-7" }, ["config", "--config", config]);

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        var rows = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToDictionary(c => c[0], c => c[1..]);
        Assert.Equal(OptionKeys.All().Select(k => k.Key), rows.Keys);                                   // every key, once, in order
        Assert.Equal(["cam-7", OptionKeys.Text(new AgentOptions().Device)!, "EDGETL_Agent__Device"], rows["Agent:Device"]);   // value, default, source
        Assert.Equal(["site-a", "default", config], rows["Agent:Fleet"]);
        Assert.Equal(["0.9", "0.9", Path.Combine(AppContext.BaseDirectory, "appsettings.json")], rows["Agent:MaxLoadPerCore"]);
        Assert.Equal(["00:01:00", "00:01:00", "default"], rows["Agent:TelemetryInterval"]);
        Assert.Equal(["***", "(unset)", config], rows["Agent:Broker:Password"]);
        Assert.DoesNotContain("hunter2", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_verb_warns_of_unknown_keys_and_exits_2_on_bad_values_in_runs_format()
    {
        var run = await AgentCliProcess.RunAsync(_dir,
            new Dictionary<string, string> { ["EDGETL_Agent__Drift__Alfa"] = "0.05", ["EDGETL_Agent__TelemetryInterval"] = "soon" }, ["config"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal(
            "warning: Agent:Drift:Alfa is not a setting and is ignored; did you mean Agent:Drift:Alpha?\n" +
            "error: invalid settings: Agent:TelemetryInterval 'soon' is not a time span (hh:mm:ss, e.g. 00:01:00).\n",
            run.Error);
        Assert.Contains("'soon' (unreadable)", run.Output, StringComparison.Ordinal);
    }

    // 5. The default MaxLoadPerCore (2.0: two runnable tasks per core) let a device saturated by
    //    other work train; the agent, its runtime settings and the gate now agree on 0.9.
    [Fact]
    public void Default_MaxLoadPerCore_2_did_not_defer_a_saturated_device()
    {
        double limit = new AgentOptions().MaxLoadPerCore;
        Assert.Equal(limit, new RuntimeSettings().MaxLoadPerCore);
        Assert.Equal(limit, new ResourceGateOptions().MaxLoadPerCore);

        bool Allowed(double loadPerCore)
        {
            var sensors = new FakeSensors { Celsius = 50, LoadPerCore = loadPerCore };
            return new ResourceGate(sensors, sensors, null, new ResourceGateOptions { MaxLoadPerCore = limit }).Check().Allowed;
        }
        // Idle, a desktop, a Jetson's camera pipeline: pass. Every core busy (a build, another trainer): defer.
        Assert.All(OrdinaryLoads, l => Assert.True(Allowed(l), $"load {l} per core should pass"));
        Assert.All(SaturatedLoads, l => Assert.False(Allowed(l), $"load {l} per core should defer"));
    }

    private static readonly double[] OrdinaryLoads = [0.05, 0.3, 0.6, 0.85];
    private static readonly double[] SaturatedLoads = [0.95, 1.0, 1.5, 3.2];

    private string WriteRunnableConfig()
    {
        string config = Path.Combine(_dir, "agent.json");
        Directory.CreateDirectory(Path.Combine(_dir, "keys"));
        File.WriteAllText(config, $$"""
            { "Agent": { "Fleet": "test", "Device": "dev1", "DataDirectory": "{{Path.Combine(_dir, "data")}}", "TrustedKeysDirectory": "{{Path.Combine(_dir, "keys")}}",
              "Broker": { "Port": {{EmbeddedBroker.FreePort()}} }, "TelemetryInterval": "00:00:00", "Drift": { "Enabled": false } } }
            """);
        return config;
    }

    private static Task<int> Run(TextWriter error, params string[] args) =>
        AgentCli.Build().Parse(args).InvokeAsync(new System.CommandLine.InvocationConfiguration { Error = error, Output = TextWriter.Null });
}
