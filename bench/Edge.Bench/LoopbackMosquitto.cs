using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using EdgeTL.Agent.Messaging;

namespace EdgeTL.Bench;

/// <summary>
/// A mosquitto of the bench's own on 127.0.0.1, on a free port, with a configuration file in a
/// temporary folder (no persistence, no queue limit, so a slow subscriber never loses a message),
/// stopped by its pid when disposed.
/// </summary>
internal sealed class LoopbackMosquitto : IDisposable
{
    private static readonly string[] Candidates = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"];
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-bench-mosquitto-").FullName;
    private readonly Process _process;

    /// <summary>Starts mosquitto and waits until it listens.</summary>
    public LoopbackMosquitto()
    {
        string executable = Candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("mosquitto is not installed (apt-get install mosquitto).");
        Port = EmbeddedBroker.FreePort();
        string config = Path.Combine(_dir, "mosquitto.conf");
        File.WriteAllText(config, string.Join('\n',
            $"listener {Port} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            "max_queued_messages 0",
            "set_tcp_nodelay true",
            ""));
        var info = new ProcessStartInfo(executable, ["-c", config]) { RedirectStandardError = true, RedirectStandardOutput = true };
        _process = Process.Start(info) ?? throw new InvalidOperationException("cannot start mosquitto");
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>The broker's pid.</summary>
    public int Pid => _process.Id;

    /// <summary>Stops the broker (SIGTERM by pid, SIGKILL after 5 s) and deletes its folder.</summary>
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
                kill?.WaitForExit();
            if (!_process.WaitForExit(5000))
                _process.Kill();
        }
        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
