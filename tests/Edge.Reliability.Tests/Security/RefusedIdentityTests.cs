namespace EdgeTL.Reliability.Tests.Security;

/// <summary>
/// RELIABILITY.md, security: the agent's own connection against mosquitto with TLS, client
/// certificates, passwords and ACLs. Each bad identity differs from a valid one in exactly one
/// respect, and must be accepted 0 times by the broker (counted in mosquitto's log) and by the agent.
/// </summary>
[Collection(SecureBrokerGroup.Name)]
public sealed class RefusedIdentityTests(SecureBroker broker)
{
    [Fact]
    public async Task A_device_without_a_client_certificate_is_refused()
    {
        var attempt = await ConnectionAttempt.RunAsync(broker, SecureBroker.NoCertificate, broker.Options(SecureBroker.NoCertificate));

        AssertRefusedByBroker(attempt, "peer did not return a certificate");
    }

    [Fact]
    public async Task An_expired_client_certificate_is_refused()
    {
        var attempt = await ConnectionAttempt.RunAsync(broker, SecureBroker.Expired, broker.Options(SecureBroker.Expired));

        AssertRefusedByBroker(attempt, "certificate verify failed");
    }

    [Fact]
    public async Task A_client_certificate_from_another_CA_is_refused()
    {
        var attempt = await ConnectionAttempt.RunAsync(broker, SecureBroker.OtherCa, broker.Options(SecureBroker.OtherCa));

        AssertRefusedByBroker(attempt, "certificate verify failed");
    }

    [Fact]
    public async Task A_wrong_password_is_refused()
    {
        const string device = "dev-badpw";
        var attempt = await ConnectionAttempt.RunAsync(broker, device, broker.Options(device) with { Password = "not-the-password" });

        AssertRefusedByBroker(attempt, "not authorised");
    }

    [Fact]
    public async Task A_broker_certificate_for_another_host_name_is_refused_by_the_agent()
    {
        const string device = "dev-hostname";
        var attempt = await ConnectionAttempt.RunAsync(broker, device, broker.Options(device) with { Port = broker.OtherHostPort });

        AssertRefusedByAgent(attempt);
    }

    [Fact]
    public async Task A_broker_certificate_from_another_CA_is_refused_by_the_agent()
    {
        const string device = "dev-pinning";
        var attempt = await ConnectionAttempt.RunAsync(broker, device, broker.Options(device) with { Port = broker.RogueServerPort });

        AssertRefusedByAgent(attempt);
    }

    /// <summary>0 accepted on both sides, every try reached mosquitto, and mosquitto gave <paramref name="reason"/>.</summary>
    private static void AssertRefusedByBroker(ConnectionAttempt attempt, string reason)
    {
        AssertNoneAccepted(attempt);
        Assert.True(attempt.BrokerLog.Any(line => line.Contains(reason, StringComparison.OrdinalIgnoreCase)),
            $"mosquitto did not refuse with '{reason}': {attempt.Describe()}");
    }

    /// <summary>0 accepted on both sides, and the agent itself rejected the broker's certificate.</summary>
    private static void AssertRefusedByAgent(ConnectionAttempt attempt)
    {
        AssertNoneAccepted(attempt);
        Assert.True(attempt.ClientErrors.Any(error => error.Contains("certificate", StringComparison.OrdinalIgnoreCase)),
            $"the agent did not reject the broker's certificate: {attempt.Describe()}");
    }

    private static void AssertNoneAccepted(ConnectionAttempt attempt)
    {
        Assert.True(attempt.BrokerAccepted == 0, $"mosquitto accepted the identity: {attempt.Describe()}");
        Assert.True(attempt.ClientConnects == 0, $"the agent connected: {attempt.Describe()}");
        Assert.True(attempt.ClientErrors.Count >= ConnectionAttempt.Tries, $"expected {ConnectionAttempt.Tries} failed connects: {attempt.Describe()}");
        Assert.True(attempt.BrokerAttempts >= ConnectionAttempt.Tries, $"the tries did not reach mosquitto: {attempt.Describe()}");
    }
}
