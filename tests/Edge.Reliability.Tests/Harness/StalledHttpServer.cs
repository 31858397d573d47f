using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EdgeTL.Reliability.Tests.Harness;

/// <summary>
/// An HTTP server on loopback that accepts every connection, reads the request head and never
/// answers, holding the socket open: a download from it hangs (until the client gives up), so a
/// <c>deploy</c> job pointed at it stays running for as long as a test needs to kill the agent.
/// </summary>
public sealed class StalledHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentBag<TcpClient> _held = [];
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Starts listening on a free loopback port.</summary>
    public StalledHttpServer()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    /// <summary>The port it listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>The request line of every request received (for example <c>GET /model.tar HTTP/1.1</c>), in arrival order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The address of <paramref name="path"/> on this server.</summary>
    public Uri Url(string path) => new($"http://127.0.0.1:{Port}/{path.TrimStart('/')}");

    /// <summary>Stops listening and closes every held connection.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        foreach (var client in _held)
            client.Dispose();
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
            {
                return;   // disposed
            }
            _held.Add(client);
            _ = ReadHeadAsync(client, _stop.Token);
        }
    }

    /// <summary>Reads up to the blank line that ends the request head, records the request line, and then keeps the socket without a word.</summary>
    private async Task ReadHeadAsync(TcpClient client, CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            var stream = client.GetStream();
            while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                int read = await stream.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                    return;   // the client went away (the agent was killed) before a whole head arrived
                head.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
            Requests.Enqueue(head.ToString()[..head.ToString().IndexOf("\r\n", StringComparison.Ordinal)]);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // the client or the server went away
        }
    }
}
