namespace EdgeTL.Cloud;

/// <summary>What <c>keys new</c> created.</summary>
/// <param name="KeyId">SHA-256 of the public key (what signatures and devices name it by).</param>
/// <param name="Algorithm">The signature algorithm.</param>
/// <param name="PrivateKey">Path of the PKCS#8 private key.</param>
/// <param name="PublicKey">Path of the SPKI public key.</param>
internal sealed record KeySummary(string KeyId, string Algorithm, string PrivateKey, string PublicKey);
