using EdgeTL.Agent;
using EdgeTL.Agent.Messaging;

namespace EdgeTL.Reliability.Tests.Security;

/// <summary>
/// Regression tests for the pinned CA file (Broker:CaFile): MqttConnection used to load it with
/// <c>X509Certificate2.CreateFromPemFile(path)</c>, which also wants a private key in that file, so
/// every ordinary CA certificate was refused and TLS could never connect. (That a CA file holding
/// only the certificate now works is shown by <see cref="ValidIdentityTests"/>, which connects with one.)
/// </summary>
[Collection(SecureBrokerGroup.Name)]
public sealed class PinnedCaFileTests(SecureBroker broker)
{
    [Fact]
    public void A_CA_file_without_a_certificate_is_refused_with_a_configuration_error_naming_it()
    {
        var options = broker.Options("dev-good") with { CaFile = broker.Ca.KeyFile };

        var error = Assert.Throws<AgentException>(() => new MqttConnection(options, new DeviceTopics(SecureBroker.Fleet, "dev-good"), []));

        Assert.Equal(AgentErrorCode.InvalidConfiguration, error.Code);
        Assert.Contains($"Broker:CaFile '{broker.Ca.KeyFile}'", error.Message, StringComparison.Ordinal);
    }
}
