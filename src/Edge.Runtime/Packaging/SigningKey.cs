using System.Security.Cryptography;

namespace EdgeTL.Runtime.Packaging;

/// <summary>
/// An ECDSA P-256 key for package signatures. The key id is the first 16 hex digits of the
/// SHA-256 of the public key (SubjectPublicKeyInfo), so a device can hold several trusted
/// keys and rotate them. Private keys are PKCS#8 PEM, public keys SPKI PEM.
/// </summary>
public sealed class SigningKey : IDisposable
{
    /// <summary>The one algorithm packages are signed with.</summary>
    public const string Algorithm = "ECDSA-P256-SHA256";

    private readonly ECDsa _key;

    private SigningKey(ECDsa key, bool hasPrivate)
    {
        _key = key;
        HasPrivateKey = hasPrivate;
        KeyId = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];
    }

    /// <summary>Identifies the key in signatures.</summary>
    public string KeyId { get; }

    /// <summary>True when this key can sign.</summary>
    public bool HasPrivateKey { get; }

    /// <summary>A new random key.</summary>
    public static SigningKey Create() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), hasPrivate: true);

    /// <summary>Reads a PEM key (private PKCS#8 or public SPKI).</summary>
    public static SigningKey FromPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidKey, $"Not an ECDSA PEM key: {e.Message}", e);
        }
        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidKey, $"Package keys are P-256; this key has {key.KeySize} bits.");
        }
        bool hasPrivate = pem.Contains("PRIVATE KEY", StringComparison.Ordinal);
        return new SigningKey(key, hasPrivate);
    }

    /// <summary>Reads a PEM key file.</summary>
    public static SigningKey Load(string path)
    {
        if (!File.Exists(path))
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidKey, $"Key file '{path}' does not exist.");
        return FromPem(File.ReadAllText(path));
    }

    /// <summary>The public key as PEM, for devices.</summary>
    public string PublicPem() => _key.ExportSubjectPublicKeyInfoPem();

    /// <summary>The private key as PEM (keep it secret).</summary>
    public string PrivatePem() => HasPrivateKey
        ? _key.ExportPkcs8PrivateKeyPem()
        : throw new EdgeRuntimeException(RuntimeErrorCode.InvalidKey, $"Key {KeyId} is public only.");

    /// <summary>The detached signature of <paramref name="data"/>.</summary>
    public SignatureFile Sign(ReadOnlySpan<byte> data)
    {
        if (!HasPrivateKey)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidKey, $"Key {KeyId} is public only and cannot sign.");
        return new SignatureFile(KeyId, Algorithm, Convert.ToBase64String(_key.SignData(data, HashAlgorithmName.SHA256)));
    }

    /// <summary>True when <paramref name="signature"/> is this key's signature of <paramref name="data"/>.</summary>
    public bool Verify(ReadOnlySpan<byte> data, byte[] signature) =>
        _key.VerifyData(data, signature, HashAlgorithmName.SHA256);

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}
