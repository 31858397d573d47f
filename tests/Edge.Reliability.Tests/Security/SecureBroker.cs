using EdgeTL.Agent.Messaging;

namespace EdgeTL.Reliability.Tests.Security;

/// <summary>
/// One mosquitto with three TLS listeners and the identities of the security tests, each a device
/// whose user name is its id and the CN of its certificate:
/// <list type="bullet">
/// <item><see cref="Port"/>: the real broker, certificate for <c>127.0.0.1</c> from the test CA;</item>
/// <item><see cref="OtherHostPort"/>: certificate from the test CA, but for <c>broker.other.example</c>;</item>
/// <item><see cref="RogueServerPort"/>: certificate for <c>127.0.0.1</c>, but from another CA.</item>
/// </list>
/// Every identity has a valid password; each bad case changes exactly one thing from a valid one.
/// The ACL gives a device read/write on <c>edgetl/fleet1/{its id}/#</c> only, and the cloud all of <c>edgetl/#</c>.
/// </summary>
public sealed class SecureBroker : IDisposable
{
    public const string Fleet = "fleet1";
    public const string Cloud = "cloud";

    /// <summary>Devices with a valid certificate from the test CA.</summary>
    public static readonly IReadOnlyList<string> ValidDevices = ["dev-good", "dev-badpw", "dev-hostname", "dev-pinning", "dev-a", "dev-b", Cloud];

    /// <summary>Has a valid password but no certificate.</summary>
    public const string NoCertificate = "dev-nocert";

    /// <summary>Has a valid password and a certificate from the test CA that expired in 2020.</summary>
    public const string Expired = "dev-expired";

    /// <summary>Has a valid password and a current certificate from another CA.</summary>
    public const string OtherCa = "dev-rogue";

    private readonly Dictionary<string, string> _passwords = [];
    private readonly Dictionary<string, TestCertificates.Pair> _clientCertificates = [];

    public SecureBroker()
    {
        Certificates = new TestCertificates();
        Ca = Certificates.CreateCa("edgetl-test-ca");
        var rogueCa = Certificates.CreateCa("rogue-ca");
        foreach (var device in ValidDevices)
            _clientCertificates[device] = Certificates.IssueClient(device, Ca);
        _clientCertificates[Expired] = Certificates.IssueExpiredClient(Expired, Ca);
        _clientCertificates[OtherCa] = Certificates.IssueClient(OtherCa, rogueCa);
        foreach (var device in ValidDevices.Append(NoCertificate).Append(Expired).Append(OtherCa))
            _passwords[device] = $"pw-{Guid.NewGuid():N}";
        Port = EmbeddedBroker.FreePort();
        OtherHostPort = EmbeddedBroker.FreePort();
        RogueServerPort = EmbeddedBroker.FreePort();
        Broker = new SecureMosquitto(Ca.CertificateFile,
            [
                new(Port, Certificates.IssueServer("broker", Ca, "IP:127.0.0.1,DNS:localhost")),
                new(OtherHostPort, Certificates.IssueServer("broker-other-host", Ca, "DNS:broker.other.example")),
                new(RogueServerPort, Certificates.IssueServer("broker-rogue", rogueCa, "IP:127.0.0.1,DNS:localhost")),
            ],
            _passwords,
            $"user {Cloud}\ntopic readwrite edgetl/#\n\npattern readwrite edgetl/{Fleet}/%u/#\n");
    }

    public TestCertificates Certificates { get; }

    public TestCertificates.Pair Ca { get; }

    public SecureMosquitto Broker { get; }

    public int Port { get; }

    public int OtherHostPort { get; }

    public int RogueServerPort { get; }

    /// <summary>
    /// The settings of <paramref name="device"/>'s own connection as a correctly configured agent
    /// has them: TLS to 127.0.0.1:<see cref="Port"/> with the test CA pinned, its certificate and key
    /// (when it has one), user name = device id and its password. Short reconnect delays, and no
    /// session kept after a disconnect: the cloud identity connects in several tests with different
    /// subscriptions, and a stored session would keep the first test's ones.
    /// </summary>
    public BrokerOptions Options(string device)
    {
        var certificate = _clientCertificates.GetValueOrDefault(device);
        return new BrokerOptions
        {
            Host = "127.0.0.1",
            Port = Port,
            UseTls = true,
            CaFile = Ca.CertificateFile,
            ClientCertificateFile = certificate?.CertificateFile,
            ClientKeyFile = certificate?.KeyFile,
            Username = device,
            Password = _passwords[device],
            ReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
            KeepAlive = TimeSpan.FromSeconds(5),
            SessionExpiry = TimeSpan.Zero,
        };
    }

    /// <summary>The MQTT client id <see cref="MqttConnection"/> uses for <paramref name="device"/>.</summary>
    public static string ClientId(string device) => $"edgetl-{Fleet}-{device}";

    public void Dispose()
    {
        Broker.Dispose();
        Certificates.Dispose();
    }
}
