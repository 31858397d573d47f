namespace EdgeTL.Runtime.Packaging;

/// <summary>The public keys a device accepts package signatures from (several, for rotation).</summary>
public sealed class TrustedKeys : IDisposable
{
    private readonly Dictionary<string, SigningKey> _byId;

    /// <summary>Trusts <paramref name="keys"/>.</summary>
    public TrustedKeys(IEnumerable<SigningKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _byId = new Dictionary<string, SigningKey>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (!_byId.TryAdd(key.KeyId, key))
                key.Dispose();   // the same key twice (for example copied under two names) is trusted once
        }
    }

    /// <summary>
    /// Loads every <c>*.pem</c> public key of a folder. Private keys (<c>*.key.pem</c>, as
    /// <c>edgetl-cloud keys new</c> writes them) are skipped: they never belong on a device.
    /// </summary>
    public static TrustedKeys FromDirectory(string directory) =>
        new(Directory.GetFiles(directory, "*.pem").Where(f => !f.EndsWith(".key.pem", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(SigningKey.Load));

    /// <summary>Ids of the trusted keys.</summary>
    public IReadOnlyCollection<string> KeyIds => _byId.Keys;

    /// <summary>Checks <paramref name="signature"/> over <paramref name="data"/>; throws the exact rejection otherwise.</summary>
    public void Verify(ReadOnlySpan<byte> data, SignatureFile signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (signature.Algorithm != SigningKey.Algorithm)
            throw new PackageRejectedException(PackageRejection.BadSignature, $"signature algorithm '{signature.Algorithm}' is not {SigningKey.Algorithm}");
        if (!_byId.TryGetValue(signature.KeyId ?? "", out var key))
            throw new PackageRejectedException(PackageRejection.UntrustedKey, $"signed by key '{signature.KeyId}', which this device does not trust (trusted: {string.Join(", ", _byId.Keys)})");
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(signature.Signature ?? "");
        }
        catch (FormatException)
        {
            throw new PackageRejectedException(PackageRejection.BadSignature, "the signature is not base64");
        }
        // Base64 is malleable (whitespace, unused low bits of the last character): only the
        // canonical encoding is accepted, so no byte of a signed package can change unnoticed.
        if (Convert.ToBase64String(bytes) != signature.Signature)
            throw new PackageRejectedException(PackageRejection.BadSignature, "the signature is not in canonical base64");
        if (!key.Verify(data, bytes))
            throw new PackageRejectedException(PackageRejection.BadSignature, $"the signature by key {key.KeyId} does not match the manifest's bytes");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var k in _byId.Values)
            k.Dispose();
    }
}
