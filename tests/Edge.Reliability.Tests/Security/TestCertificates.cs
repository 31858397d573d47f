using System.Diagnostics;

namespace EdgeTL.Reliability.Tests.Security;

/// <summary>
/// Certificates made by the openssl CLI into a temporary folder: P-256 keys, CAs, server
/// certificates with subject alternative names, and client certificates whose CN is the device
/// id. Every openssl call goes through <see cref="Run"/>, which names the failing command.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private static readonly string[] Candidates = ["/usr/bin/openssl", "/usr/local/bin/openssl"];

    public TestCertificates() => Folder = Directory.CreateTempSubdirectory("edgetl-certs-").FullName;

    /// <summary>The folder holding every generated file.</summary>
    public string Folder { get; }

    private static string Executable =>
        Candidates.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("openssl is not installed: run scripts/test.sh (it apt-installs it) or apt-get install openssl.");

    /// <summary>A PEM certificate and its PEM private key.</summary>
    public sealed record Pair(string CertificateFile, string KeyFile);

    /// <summary>A self-signed CA named <paramref name="name"/> (also the file name stem).</summary>
    public Pair CreateCa(string name)
    {
        var pair = PathsFor(name);
        Run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", pair.KeyFile,
            "-out", pair.CertificateFile, "-days", "2", "-subj", $"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return pair;
    }

    /// <summary>A server certificate for <paramref name="subjectAltNames"/> (for example <c>IP:127.0.0.1</c>), signed by <paramref name="ca"/>.</summary>
    public Pair IssueServer(string name, Pair ca, string subjectAltNames)
    {
        ArgumentNullException.ThrowIfNull(ca);
        var pair = PathsFor(name);
        var request = Request(name, pair);
        var extensions = Path.Combine(Folder, $"{name}.ext");
        File.WriteAllText(extensions, $"subjectAltName={subjectAltNames}\nextendedKeyUsage=serverAuth\n");
        Run("x509", "-req", "-in", request, "-CA", ca.CertificateFile, "-CAkey", ca.KeyFile, "-CAcreateserial",
            "-out", pair.CertificateFile, "-days", "2", "-extfile", extensions);
        return pair;
    }

    /// <summary>A client certificate with CN <paramref name="device"/>, valid from now for two days, signed by <paramref name="ca"/>.</summary>
    public Pair IssueClient(string device, Pair ca)
    {
        ArgumentNullException.ThrowIfNull(ca);
        var pair = PathsFor(device);
        var request = Request(device, pair);
        var extensions = Path.Combine(Folder, $"{device}.ext");
        File.WriteAllText(extensions, "extendedKeyUsage=clientAuth\n");
        Run("x509", "-req", "-in", request, "-CA", ca.CertificateFile, "-CAkey", ca.KeyFile, "-CAcreateserial",
            "-out", pair.CertificateFile, "-days", "2", "-extfile", extensions);
        return pair;
    }

    /// <summary>
    /// A client certificate with CN <paramref name="device"/>, signed by <paramref name="ca"/>, that
    /// expired in 2020 (valid 1–2 January 2020). <c>openssl x509 -req</c> cannot date a certificate
    /// in the past, so this signs with <c>openssl ca</c> and explicit start and end dates.
    /// </summary>
    public Pair IssueExpiredClient(string device, Pair ca)
    {
        ArgumentNullException.ThrowIfNull(ca);
        var pair = PathsFor(device);
        var request = Request(device, pair);
        var database = Directory.CreateDirectory(Path.Combine(Folder, $"{device}-ca")).FullName;
        File.WriteAllText(Path.Combine(database, "index.txt"), "");
        File.WriteAllText(Path.Combine(database, "serial"), "1000\n");
        var config = Path.Combine(database, "ca.cnf");
        File.WriteAllText(config, string.Join('\n',
            "[ ca ]", "default_ca = expired",
            "[ expired ]", $"database = {database}/index.txt", $"new_certs_dir = {database}", $"serial = {database}/serial",
            "default_md = sha256", "policy = any", "unique_subject = no", "x509_extensions = client",
            "[ any ]", "commonName = supplied",
            "[ client ]", "extendedKeyUsage = clientAuth", ""));
        Run("ca", "-batch", "-config", config, "-cert", ca.CertificateFile, "-keyfile", ca.KeyFile, "-in", request,
            "-out", pair.CertificateFile, "-notext", "-startdate", "20200101000000Z", "-enddate", "20200102000000Z");
        return pair;
    }

    private string Request(string name, Pair pair)
    {
        var request = Path.Combine(Folder, $"{name}.csr");
        Run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", pair.KeyFile,
            "-out", request, "-subj", $"/CN={name}");
        return request;
    }

    private Pair PathsFor(string name) =>
        new(Path.Combine(Folder, $"{name}.pem"), Path.Combine(Folder, $"{name}.key"));

    /// <summary>Runs openssl with <paramref name="arguments"/>; throws naming the command when it fails.</summary>
    private void Run(params string[] arguments)
    {
        var info = new ProcessStartInfo(Executable, arguments)
        {
            WorkingDirectory = Folder,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {Executable}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        output.Wait();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"openssl {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {error.Trim()}");
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
