using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using EdgeTL.Agent.Tests.Integration;

namespace EdgeTL.Reliability.Tests.Security;

/// <summary>
/// A real mosquitto on loopback with only TLS listeners: every client must present a certificate
/// signed by <c>cafile</c> and a user name and password from the password file; anonymous access is
/// off and topics are limited by the ACL file. Its log (stderr) is kept, so a test can count what
/// the broker itself accepted. Started and stopped by pid; its folder is deleted on dispose.
/// </summary>
public sealed class SecureMosquitto : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-secure-mosquitto-").FullName;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly Process _process;

    /// <summary>One TLS listener on 127.0.0.1 and the server certificate it presents.</summary>
    public sealed record Listener(int Port, TestCertificates.Pair ServerCertificate);

    /// <param name="clientCa">The CA every client certificate must chain to.</param>
    /// <param name="listeners">The TLS listeners (each on a free port).</param>
    /// <param name="passwords">User name → password.</param>
    /// <param name="acl">The ACL file's text.</param>
    public SecureMosquitto(string clientCa, IReadOnlyList<Listener> listeners, IReadOnlyDictionary<string, string> passwords, string acl)
    {
        ArgumentNullException.ThrowIfNull(listeners);
        ArgumentNullException.ThrowIfNull(passwords);
        Listeners = listeners;
        var passwordFile = Path.Combine(_dir, "passwd");
        foreach (var (user, password) in passwords)
            RunPasswd(File.Exists(passwordFile) ? ["-b", passwordFile, user, password] : ["-c", "-b", passwordFile, user, password]);
        var aclFile = Path.Combine(_dir, "acl");
        File.WriteAllText(aclFile, acl);
        var config = new List<string>
        {
            // As root, mosquitto would switch to user "mosquitto", which cannot read this private folder.
            $"user {Environment.UserName}",
            "per_listener_settings false",
            "allow_anonymous false",
            $"password_file {passwordFile}",
            $"acl_file {aclFile}",
            "persistence false",
            "log_dest stderr",
            "log_type error", "log_type warning", "log_type notice", "log_type information",
        };
        foreach (var listener in listeners)
        {
            config.AddRange(
            [
                $"listener {listener.Port} 127.0.0.1",
                $"cafile {clientCa}",
                $"certfile {listener.ServerCertificate.CertificateFile}",
                $"keyfile {listener.ServerCertificate.KeyFile}",
                "require_certificate true",
                "use_identity_as_username false",
            ]);
        }
        var configFile = Path.Combine(_dir, "mosquitto.conf");
        File.WriteAllLines(configFile, config);
        var info = new ProcessStartInfo(MosquittoBroker.Executable, ["-c", configFile]) { RedirectStandardError = true, RedirectStandardOutput = true };
        _process = Process.Start(info) ?? throw new InvalidOperationException("Could not start mosquitto.");
        _process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) _log.Enqueue(line); };
        _process.OutputDataReceived += (_, e) => { if (e.Data is { } line) _log.Enqueue(line); };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        foreach (var listener in listeners)
            WaitForPort(listener.Port);
    }

    /// <summary>The listeners, in the order given.</summary>
    public IReadOnlyList<Listener> Listeners { get; }

    /// <summary>The broker's log so far, one entry per line.</summary>
    public IReadOnlyList<string> Log => [.. _log];

    /// <summary>Log lines after the first <paramref name="skip"/> (a mark taken with <c>Log.Count</c>).</summary>
    public IReadOnlyList<string> LogSince(int skip) => [.. _log.Skip(skip)];

    /// <summary>
    /// How many times, in <paramref name="lines"/>, the broker accepted a CONNECT from client id
    /// <paramref name="clientId"/> (mosquitto logs "New client connected from … as {id} (…)" only after
    /// the certificate, the user name and the password have all passed).
    /// </summary>
    public static int Accepted(IEnumerable<string> lines, string clientId) =>
        lines.Count(line => line.Contains("New client connected from", StringComparison.Ordinal) && line.Contains($" as {clientId} (", StringComparison.Ordinal));

    /// <summary>
    /// How many TCP connections reached the broker in <paramref name="lines"/>: logged as "New
    /// connection from …", or as "Client connection from … failed: …" when the TLS handshake already
    /// failed while the connection was being accepted.
    /// </summary>
    public static int Attempts(IEnumerable<string> lines) =>
        lines.Count(line => line.Contains("New connection from", StringComparison.Ordinal)
            || (line.Contains("Client connection from", StringComparison.Ordinal) && line.Contains("failed", StringComparison.Ordinal)));

    private void WaitForPort(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect("127.0.0.1", port);
                return;
            }
            catch (SocketException)
            {
                if (_process.HasExited)
                    throw new InvalidOperationException($"mosquitto exited with {_process.ExitCode}: {string.Join(" | ", _log)}");
                Thread.Sleep(50);
            }
        }
        throw new TimeoutException($"mosquitto did not listen on {port} within 10 s: {string.Join(" | ", _log)}");
    }

    private static void RunPasswd(string[] arguments)
    {
        const string executable = "mosquitto_passwd";
        var info = new ProcessStartInfo(executable, arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {executable}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        output.Wait();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{executable} {string.Join(' ', arguments.Take(arguments.Length - 1))} … failed with exit code {process.ExitCode}: {error.Trim()}");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!_process.WaitForExit(5_000))
                _process.Kill();
        }
        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
