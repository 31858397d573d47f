using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EdgeTL.Cloud.Tests;

/// <summary>A real mosquitto on a free loopback port with a generated configuration, killed by pid.</summary>
public sealed class Mosquitto : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-cloud-mosquitto-").FullName;
    private readonly Process _process;

    public Mosquitto()
    {
        Port = FreePort();
        string config = Path.Combine(_dir, "mosquitto.conf");
        File.WriteAllText(config, string.Join('\n', $"listener {Port} 127.0.0.1", "allow_anonymous true", "persistence false", "max_queued_messages 100000", ""));
        string exe = Candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("mosquitto is not installed (apt-get install mosquitto).");
        _process = Process.Start(new ProcessStartInfo(exe, ["-c", config]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                Thread.Sleep(50);
            }
        }
    }

    private static readonly string[] Candidates = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"];

    public int Port { get; }

    public string Address => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
