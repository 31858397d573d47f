using System.Diagnostics;
using System.Net.Sockets;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>
/// A real mosquitto on loopback, started by the test with its own configuration and a
/// persistence file (so sessions and queued QoS 1 messages survive a restart), stopped by pid.
/// </summary>
public sealed class MosquittoBroker : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-mosquitto-").FullName;
    private Process? _process;

    public MosquittoBroker(string extraConfig = "")
    {
        Port = Messaging.EmbeddedBroker.FreePort();
        File.WriteAllText(Path.Combine(_dir, "mosquitto.conf"), string.Join('\n',
            $"listener {Port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            $"persistence_location {_dir}/",
            "autosave_interval 1",
            "max_queued_messages 100000",
            extraConfig,
            ""));
        Start();
    }

    public int Port { get; }

    private static readonly string[] Candidates = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"];

    public static string Executable =>
        Candidates.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("mosquitto is not installed: run scripts/test.sh (it apt-installs it) or apt-get install mosquitto.");

    public void Start()
    {
        var info = new ProcessStartInfo(Executable, ["-c", Path.Combine(_dir, "mosquitto.conf")]) { RedirectStandardError = true, RedirectStandardOutput = true };
        _process = Process.Start(info)!;
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                if (_process.HasExited)
                    throw new InvalidOperationException($"mosquitto exited with {_process.ExitCode}.");
                Thread.Sleep(50);
            }
        }
        throw new TimeoutException($"mosquitto did not listen on {Port} within 10 s.");
    }

    /// <summary>Stops the broker with SIGTERM (it saves its persistence file) and waits.</summary>
    public void Stop()
    {
        if (_process is null || _process.HasExited)
            return;
        Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        if (!_process.WaitForExit(10_000))
            _process.Kill();
        _process.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        if (_process is { HasExited: false })
            _process.Kill();
        _process?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
