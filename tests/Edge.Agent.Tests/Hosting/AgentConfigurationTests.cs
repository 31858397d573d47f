using EdgeTL.Agent.Hosting;
using Microsoft.Extensions.Configuration;

namespace EdgeTL.Agent.Tests.Hosting;

/// <summary>The configuration walk: keys found by reflection, unreadable values judged as the binder judges them, unknown keys named with the likely intended one.</summary>
public sealed class AgentConfigurationTests
{
    [Fact]
    public void Keys_are_the_option_types_properties()
    {
        Assert.Equal(OptionKeys.All().Select(k => (k.Key, k.Type)), AgentConfiguration.Keys().Select(k => (k.Path, k.Type)));
        Assert.Equal(OptionKeys.All().Select(k => OptionKeys.Text(k.Default) ?? "(unset)"), AgentConfiguration.Keys().Select(k => SettingKey.Format(k.Default)));
    }

    [Theory]
    [InlineData("TelemetryInterval", "soon")]
    [InlineData("TelemetryInterval", "")]
    [InlineData("TelemetryInterval", "60")]              // 60 days: readable (docs/configuration.md warns)
    [InlineData("TelemetryInterval", "00:00:30")]
    [InlineData("Broker:Port", "1883")]
    [InlineData("Broker:Port", " 1883 ")]
    [InlineData("Broker:Port", "1883.0")]
    [InlineData("Broker:Port", "")]
    [InlineData("MaxLoadPerCore", "0.9")]
    [InlineData("MaxLoadPerCore", "0,9")]
    [InlineData("MaxLoadPerCore", "1e0")]
    [InlineData("MaxLoadPerCore", "NaN")]
    [InlineData("Drift:Enabled", "True")]
    [InlineData("Drift:Enabled", "1")]
    [InlineData("SampleFolder", "")]
    [InlineData("Broker:CaFile", "")]
    public void A_value_is_unreadable_exactly_when_the_binder_throws_on_it(string key, string value)
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection([new("Agent:" + key, value)]).Build().GetSection("Agent");
        bool binderThrows;
        try
        {
            section.Bind(new AgentOptions());
            binderThrows = false;
        }
        catch (InvalidOperationException)
        {
            binderThrows = true;
        }

        var problems = AgentConfiguration.Bind(section, new AgentOptions());

        Assert.Equal(binderThrows, problems.Count == 1);
        Assert.All(problems, p => Assert.StartsWith($"Agent:{key} '{value}' ", p, StringComparison.Ordinal));
    }

    [Fact]
    public void Readable_values_are_bound_around_an_unreadable_one()
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(
            [new("Agent:TelemetryInterval", "soon"), new("Agent:Fleet", "site-a"), new("Agent:Drift:WindowSize", "64")]).Build().GetSection("Agent");
        var options = new AgentOptions();

        var problems = AgentConfiguration.Bind(section, options);

        Assert.Single(problems);
        Assert.Equal(("site-a", 64, TimeSpan.FromMinutes(1)), (options.Fleet, options.Drift.WindowSize, options.TelemetryInterval));
    }

    [Theory]
    [InlineData("Agent:Devic", "Agent:Devic is not a setting and is ignored; did you mean Agent:Device?")]
    [InlineData("Agent:device", null)]                                     // the binder ignores case; so does the check
    [InlineData("Agent:BROKER:port", null)]
    [InlineData("Agent:Broker:Prot", "Agent:Broker:Prot is not a setting and is ignored; did you mean Agent:Broker:Port?")]
    [InlineData("Agent:Brokr:Port", "Agent:Brokr:Port is not a setting and is ignored; did you mean Agent:Broker:Port?")]
    [InlineData("Agent:Drift:Alfa", "Agent:Drift:Alfa is not a setting and is ignored; did you mean Agent:Drift:Alpha?")]
    [InlineData("Agent:MaxLoadPerCores", "Agent:MaxLoadPerCores is not a setting and is ignored; did you mean Agent:MaxLoadPerCore?")]
    [InlineData("Agent:Colour", "Agent:Colour is not a setting and is ignored (see edgetl-agent config).")]
    [InlineData("Agent:Fleet:Name", "Agent:Fleet:Name is not a setting and is ignored (Agent:Fleet is a value, not a section).")]
    public void Unknown_keys_warn_naming_the_key_and_the_close_one(string key, string? warning)
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection([new(key, "x")]).Build().GetSection("Agent");

        var warnings = AgentConfiguration.UnknownKeys(section);

        Assert.Equal(warning is null ? [] : [warning], warnings);
    }

    [Theory]
    [InlineData(0.0, 80.0, "Agent:MaxLoadPerCore 0 must be a positive load per core (1.0: every core busy).")]
    [InlineData(-1.0, 80.0, "Agent:MaxLoadPerCore -1 must be a positive load per core (1.0: every core busy).")]
    [InlineData(0.9, 0.0, "Agent:MaxTemperatureC 0 must be a positive number of °C.")]
    [InlineData(0.9, double.NaN, "Agent:MaxTemperatureC NaN must be a positive number of °C.")]
    public void Gate_limits_the_resource_gate_would_refuse_are_named_at_start(double maxLoad, double maxC, string problem) =>
        // The gate throws on them at every training check; the agent should not start with them.
        Assert.Equal([problem], new AgentOptions { MaxLoadPerCore = maxLoad, MaxTemperatureC = maxC }.Problems());

    [Theory]
    [InlineData("Device", "Device", 0)]
    [InlineData("Devic", "Device", 1)]
    [InlineData("Fleat", "Fleet", 1)]
    [InlineData("KeepVersoins", "KeepVersions", 2)]
    [InlineData("", "abc", 3)]
    public void Edit_distance(string a, string b, int distance) => Assert.Equal(distance, AgentConfiguration.Distance(a, b));
}
