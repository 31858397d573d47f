using System.Net.Sockets;
using System.Text;
using EdgeTL.Agent.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace EdgeTL.Agent.Tests.Hosting;

/// <summary>The watchdog ping goes to a real (test) NOTIFY_SOCKET only while the loops progress.</summary>
public sealed class WatchdogPingerTests
{
    [Fact]
    public async Task RunAsync_LoopsProgressThenHang_PingsStopWhenTheyHang()
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgetl-notify-{Guid.NewGuid():N}.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        string? before = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        Environment.SetEnvironmentVariable("NOTIFY_SOCKET", path);
        try
        {
            var notifier = new SystemdNotifier();
            Assert.True(notifier.IsEnabled);
            bool healthy = true;
            var pinger = new WatchdogPinger(notifier, () => healthy, TimeSpan.FromMilliseconds(50));
            using var cts = new CancellationTokenSource();
            var run = pinger.RunAsync(cts.Token);

            var received = new List<string>();
            var buffer = new byte[256];
            socket.ReceiveTimeout = 15_000;   // a liveness wait: on a loaded 2-core CI machine the first pings took over 2 s
            while (received.Count < 3)
                received.Add(Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer)));
            Assert.All(received, m => Assert.Equal("WATCHDOG=1", m));

            healthy = false;   // the main loop hangs
            await Task.Delay(200);
            while (socket.Available > 0)
                socket.Receive(buffer);   // drain what was sent before the hang
            int withheldBefore = pinger.Withheld;
            await Task.Delay(400);
            Assert.Equal(0, socket.Available);
            Assert.True(pinger.Withheld > withheldBefore);

            healthy = true;   // it recovers: pings resume
            Assert.Equal("WATCHDOG=1", Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer)));
            await cts.CancelAsync();
            await run;
        }
        finally
        {
            Environment.SetEnvironmentVariable("NOTIFY_SOCKET", before);
            File.Delete(path);
        }
    }
}
