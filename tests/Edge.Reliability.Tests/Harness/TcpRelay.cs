using System.Net;
using System.Net.Sockets;

namespace EdgeTL.Reliability.Tests.Harness;

/// <summary>
/// A network controller between the agent and the broker, on loopback: <see cref="Cut"/> drops
/// every connection and refuses new ones (to the agent, exactly a broker that is down), and
/// <see cref="Restore"/> accepts again. The cloud side stays connected to the broker itself, as a
/// real consumer would; mosquitto 2.0 does not keep offline MQTT 5 sessions across its own restart
/// (a publish right after a restart is answered "no matching subscribers"), so stopping the broker
/// would test mosquitto's persistence rather than the agent's outbox.
/// </summary>
public sealed class TcpRelay : IDisposable
{
    private readonly int _target;
    private readonly Lock _gate = new();
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;

    public TcpRelay(int targetPort)
    {
        _target = targetPort;
        Port = Agent.Messaging.EmbeddedBroker.FreePort();
        Restore();
    }

    /// <summary>The port the agent connects to.</summary>
    public int Port { get; }

    /// <summary>Connections relayed so far.</summary>
    public int Accepted { get; private set; }

    /// <summary>Accepts connections again.</summary>
    public void Restore()
    {
        lock (_gate)
        {
            if (_listener is not null)
                return;
            _listener = new TcpListener(IPAddress.Loopback, Port);
            _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _listener.Start();
            _ = AcceptAsync(_listener);
        }
    }

    /// <summary>Drops every relayed connection and refuses new ones.</summary>
    public void Cut()
    {
        lock (_gate)
        {
            _listener?.Stop();
            _listener = null;
            foreach (var client in _open)
                client.Dispose();
            _open.Clear();
        }
    }

    public void Dispose() => Cut();

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;   // cut
            }
            var outbound = new TcpClient();
            try
            {
                await outbound.ConnectAsync(IPAddress.Loopback, _target);
            }
            catch (SocketException)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }
            lock (_gate)
            {
                if (!ReferenceEquals(_listener, listener))
                {
                    inbound.Dispose();
                    outbound.Dispose();
                    return;
                }
                _open.Add(inbound);
                _open.Add(outbound);
                Accepted++;
            }
            _ = PumpAsync(inbound, outbound);
            _ = PumpAsync(outbound, inbound);
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream());
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
            // one side went away (or the relay was cut)
        }
        from.Dispose();
        to.Dispose();
    }
}
