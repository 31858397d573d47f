using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace EdgeTL.Reliability.Tests.Harness;

/// <summary>
/// Stands in for systemd's notify socket: a Unix datagram socket at a temporary path that records
/// every message sent to it (<c>READY=1</c>, <c>WATCHDOG=1</c>, <c>STOPPING=1</c>) with its arrival time.
/// </summary>
public sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receive;

    public NotifySocket()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"edgetl-notify-{Guid.NewGuid():N}.sock");
        _socket.Bind(new UnixDomainSocketEndPoint(Path));
        _receive = Task.Run(ReceiveAsync);
    }

    /// <summary>The socket's path (the value of NOTIFY_SOCKET).</summary>
    public string Path { get; }

    /// <summary>Messages received, with when they arrived.</summary>
    public ConcurrentQueue<(DateTime At, string Message)> Received { get; } = new();

    /// <summary>Watchdog pings received after <paramref name="since"/>.</summary>
    public int PingsSince(DateTime since) => Received.Count(r => r.At > since && r.Message.Contains("WATCHDOG=1", StringComparison.Ordinal));

    private async Task ReceiveAsync()
    {
        var buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                Received.Enqueue((DateTime.UtcNow, Encoding.UTF8.GetString(buffer, 0, n)));
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _receive.Wait(TimeSpan.FromSeconds(5));
        _socket.Dispose();
        _stop.Dispose();
        File.Delete(Path);
    }
}
