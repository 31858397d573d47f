using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EdgeTL.Agent.Tests.Deployment;

/// <summary>One request as the server saw it: its number (from 1), path and the start of its Range header.</summary>
internal sealed record SeenRequest(int Number, string Path, long? RangeFrom);

/// <summary>
/// A tiny HTTP/1.1 server on 127.0.0.1 (free port) over a raw TcpListener, so that tests control
/// every byte: status, headers, how much of the body is sent before the connection is dropped.
/// Each connection serves one request (<c>Connection: close</c>).
/// </summary>
internal sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<SeenRequest, Stream, Task> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _count;

    public LoopbackHttpServer(Func<SeenRequest, Stream, Task> handler)
    {
        _handler = handler;
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public Uri Url(string path) => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/{path}");

    public ConcurrentQueue<SeenRequest> Requests { get; } = new();

    /// <summary>Writes a status line, headers and <paramref name="body"/> (all of it, or only its first <paramref name="sendOnly"/> bytes).</summary>
    public static async Task Reply(Stream stream, int status, byte[] body, IEnumerable<(string Name, string Value)>? headers = null, int? sendOnly = null, bool contentLength = true)
    {
        var head = new StringBuilder().Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {(HttpStatusCode)status}\r\nConnection: close\r\n");
        if (contentLength)
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
        foreach (var (name, value) in headers ?? [])
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        await stream.WriteAsync(body.AsMemory(0, sendOnly ?? body.Length));
        await stream.FlushAsync();
    }

    /// <summary>Serves <paramref name="content"/> honouring <c>Range: bytes=N-</c> with 206.</summary>
    public static Task ServeWithRanges(SeenRequest request, Stream stream, byte[] content)
    {
        if (request.RangeFrom is not long from)
            return Reply(stream, 200, content);
        byte[] rest = content[(int)from..];
        return Reply(stream, 206, rest, [("Content-Range", $"bytes {from}-{content.Length - 1}/{content.Length}")]);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            string head = await ReadHead(stream);
            var lines = head.Split("\r\n");
            string path = lines[0].Split(' ')[1];
            long? rangeFrom = null;
            foreach (var line in lines.Skip(1))
            {
                if (line.StartsWith("Range:", StringComparison.OrdinalIgnoreCase))
                    rangeFrom = long.Parse(line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..].TrimEnd('-', ' '), CultureInfo.InvariantCulture);
            }
            var request = new SeenRequest(Interlocked.Increment(ref _count), path, rangeFrom);
            Requests.Enqueue(request);
            try
            {
                await _handler(request, stream);
            }
            catch (IOException)
            {
                // The client went away; nothing to do.
            }
        }
    }

    private static async Task<string> ReadHead(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (await stream.ReadAsync(one) == 1)
        {
            bytes.Add(one[0]);
            if (bytes.Count >= 4 && bytes[^1] == '\n' && bytes[^2] == '\r' && bytes[^3] == '\n' && bytes[^4] == '\r')
                break;
        }
        return Encoding.ASCII.GetString(bytes.ToArray());
    }
}
