using EdgeTL.Agent.Hosting;
using Microsoft.Extensions.Logging;
using EdgeTL.Agent.Messaging;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>A real agent in this process, with its own data folder, trusting <paramref name="key"/>, on a broker at <c>port</c>.</summary>
public sealed class AgentHarness : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-agent-").FullName;

    public AgentHarness(SigningKey key, int port, string device = "dev1", Func<AgentOptions, AgentOptions>? configure = null)
    {
        Directory.CreateDirectory(Path.Combine(_dir, "keys"));
        File.WriteAllText(Path.Combine(_dir, "keys", "release.pem"), key.PublicPem());
        Options = new AgentOptions
        {
            Fleet = "test",
            Device = device,
            DataDirectory = Path.Combine(_dir, "data"),
            TrustedKeysDirectory = Path.Combine(_dir, "keys"),
            Broker = new BrokerOptions { Port = port, ReconnectDelay = TimeSpan.FromMilliseconds(100), MaxReconnectDelay = TimeSpan.FromSeconds(1) },
            ShutdownFlushTimeout = TimeSpan.FromSeconds(3),
            MaxLoadPerCore = 1000,   // the test machine is busy running other tests; the gate itself is tested in Resources/
            TelemetryInterval = TimeSpan.Zero,   // tests here count metrics exactly; telemetry is tested in Edge.Reliability.Tests
        };
        if (configure is not null)
            Options = configure(Options);
    }

    public AgentOptions Options { get; private set; }

    /// <summary>What the agent logged (Information and above), across restarts.</summary>
    public CapturedLog Log { get; } = new();

    public EdgeAgent Agent { get; private set; } = null!;

    public string Directory0 => _dir;

    public async Task<EdgeAgent> StartAsync()
    {
        Agent = new EdgeAgent(Options, LoggerFactory.Create(b => b.AddProvider(Log)));
        await Agent.StartAsync();
        await Agent.Connection.WaitConnectedAsync(new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token);
        return Agent;
    }

    /// <summary>Stops the agent (flushing its outbox) and starts a new one on the same data folder, with its options changed by <paramref name="reconfigure"/> when given.</summary>
    public async Task<EdgeAgent> RestartAsync(Func<AgentOptions, AgentOptions>? reconfigure = null)
    {
        await Agent.DisposeAsync();
        if (reconfigure is not null)
            Options = reconfigure(Options);
        return await StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Agent is not null)
            await Agent.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
