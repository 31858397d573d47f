using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Runtime.Tests.Packaging;

public sealed class TrustedKeysTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-keys-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void FromDirectory_KeysNewFolderWithPrivateKeyAndACopy_TrustsEachPublicKeyOnce()
    {
        // Regression: a folder as `edgetl-cloud keys new` writes it (release.pem + release.key.pem),
        // plus the same public key under a second name, failed with "same key already added".
        using var release = SigningKey.Create();
        using var rotated = SigningKey.Create();
        File.WriteAllText(Path.Combine(_dir, "release.pem"), release.PublicPem());
        File.WriteAllText(Path.Combine(_dir, "release.key.pem"), release.PrivatePem());
        File.WriteAllText(Path.Combine(_dir, "release-copy.pem"), release.PublicPem());
        File.WriteAllText(Path.Combine(_dir, "rotated.pem"), rotated.PublicPem());

        using var trusted = TrustedKeys.FromDirectory(_dir);

        Assert.Equal(new[] { release.KeyId, rotated.KeyId }.Order(StringComparer.Ordinal), trusted.KeyIds.Order(StringComparer.Ordinal));
    }
}
