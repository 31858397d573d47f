using EdgeTL.Agent;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Messaging;

namespace EdgeTL.Cloud.Tests;

/// <summary>A real agent in this process, of fleet <c>plant</c> and group <c>line1</c>, trusting one release key, connected to a broker on loopback.</summary>
internal static class TestAgents
{
    public static async Task<EdgeAgent> StartAsync(string dir, string publicKey, int port, string device, Func<AgentOptions, AgentOptions>? configure = null)
    {
        string keys = Path.Combine(dir, device, "keys");
        Directory.CreateDirectory(keys);
        File.Copy(publicKey, Path.Combine(keys, "release.pem"));
        var options = new AgentOptions
        {
            Fleet = "plant",
            Device = device,
            Group = "line1",
            DataDirectory = Path.Combine(dir, device, "data"),
            TrustedKeysDirectory = keys,
            Broker = new BrokerOptions { Port = port, ReconnectDelay = TimeSpan.FromMilliseconds(100), MaxReconnectDelay = TimeSpan.FromSeconds(1) },
            ShutdownFlushTimeout = TimeSpan.FromSeconds(3),
            MaxLoadPerCore = 1000,   // the test machine is busy; the resource gate is tested in Edge.Agent.Tests
        };
        var agent = new EdgeAgent(configure?.Invoke(options) ?? options);
        await agent.StartAsync();
        using var connected = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await agent.Connection.WaitConnectedAsync(connected.Token);
        return agent;
    }
}
