namespace EdgeTL.Reliability.Tests.Security;

/// <summary>
/// The TLS and ACL test classes share one <see cref="SecureBroker"/> (certificates made and
/// mosquitto started once) and run one after another, so each test can read the broker's log
/// from its own mark without another test's connections in it.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SecureBrokerGroup : ICollectionFixture<SecureBroker>
{
    public const string Name = "secure mosquitto";
}
