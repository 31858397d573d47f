using EdgeTL.Agent.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EdgeTL.Agent.Tests.Hosting;

/// <summary>Configuration layering and validation at start.</summary>
public sealed class AgentHostTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-host-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Start_InvalidSettings_FailsNamingEveryProblem()
    {
        string config = Path.Combine(_dir, "agent.json");
        await File.WriteAllTextAsync(config, """{ "Agent": { "Device": "bad/name", "Broker": { "Port": 70000 }, "KeepVersions": 1 } }""");
        using var host = AgentHost.Build([], embedded: false, configFile: config);

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        string all = string.Join(" ", e.Failures);
        Assert.Contains("Agent:Device 'bad/name'", all, StringComparison.Ordinal);
        Assert.Contains("Broker:Port 70000", all, StringComparison.Ordinal);
        Assert.Contains("KeepVersions", all, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ConfigFileThenEnvironment_LaterLayersWin()
    {
        string config = Path.Combine(_dir, "agent.json");
        File.WriteAllText(config, """{ "Agent": { "Device": "from-file", "Fleet": "site-a", "Drift": { "WindowSize": 64 } } }""");
        Environment.SetEnvironmentVariable("EDGETL_Agent__Device", "from-env");
        try
        {
            using var host = AgentHost.Build([], embedded: false, configFile: config);
            var options = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;
            Assert.Equal("from-env", options.Device);       // environment beats the file
            Assert.Equal("site-a", options.Fleet);          // the file beats appsettings.json
            Assert.Equal(64, options.Drift.WindowSize);
            Assert.Equal(1883, options.Broker.Port);        // appsettings.json's value where nobody overrides it
        }
        finally
        {
            Environment.SetEnvironmentVariable("EDGETL_Agent__Device", null);
        }
    }
}
