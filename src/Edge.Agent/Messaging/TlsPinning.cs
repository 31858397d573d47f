using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace EdgeTL.Agent.Messaging;

/// <summary>Certificate checks with one pinned CA instead of the system store.</summary>
internal static class TlsPinning
{
    /// <summary>
    /// True when <paramref name="certificate"/> chains to <paramref name="ca"/> (custom trust
    /// store), is within its validity, and names <paramref name="host"/>.
    /// </summary>
    public static bool ChainsToPinnedCa(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 ca, string host)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
            return false;
        using var leaf = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (!chain.Build(leaf))
            return false;
        return leaf.MatchesHostname(host);
    }
}
