using System.Net;
using MQTTnet.Server;

namespace EdgeTL.Agent.Messaging;

/// <summary>
/// The embedded default: an in-process MQTTnet broker on loopback with persistent sessions, so
/// one command runs the whole loop on a laptop. (It does not support shared subscriptions and
/// forgets sessions when restarted; a fleet uses mosquitto or a clustered broker.)
/// </summary>
public sealed class EmbeddedBroker : IAsyncDisposable
{
    private readonly MqttServer _server;

    private EmbeddedBroker(MqttServer server, int port)
    {
        _server = server;
        Port = port;
    }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>Starts a broker on 127.0.0.1:<paramref name="port"/> (0 picks a free port).</summary>
    public static async Task<EmbeddedBroker> StartAsync(int port = 0, CancellationToken cancellationToken = default)
    {
        if (port == 0)
            port = FreePort();
        var factory = new MqttServerFactory();
        var options = factory.CreateServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointPort(port)
            .WithPersistentSessions(true)
            .Build();
        var server = factory.CreateMqttServer(options);
        await server.StartAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        return new EmbeddedBroker(server, port);
    }

    /// <summary>A TCP port that is free on loopback right now.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Stops the broker.</summary>
    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync().ConfigureAwait(false);
        _server.Dispose();
    }
}
