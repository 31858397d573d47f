namespace EdgeTL.Agent.Messaging;

/// <summary>How the agent reaches its MQTT 5 broker (section <c>Agent:Broker</c> of the configuration).</summary>
public sealed record BrokerOptions
{
    /// <summary>Host name or address.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port (1883 plain, 8883 TLS by convention).</summary>
    public int Port { get; init; } = 1883;

    /// <summary>Use TLS.</summary>
    public bool UseTls { get; init; }

    /// <summary>PEM file of the one CA the broker's certificate must chain to (pinned; the system store is not used).</summary>
    public string? CaFile { get; init; }

    /// <summary>PEM client certificate (its CN is the device id) and its key.</summary>
    public string? ClientCertificateFile { get; init; }

    /// <summary>PEM private key of the client certificate.</summary>
    public string? ClientKeyFile { get; init; }

    /// <summary>User name, when the broker wants one.</summary>
    public string? Username { get; init; }

    /// <summary>Password for <see cref="Username"/>.</summary>
    public string? Password { get; init; }

    /// <summary>MQTT keep-alive.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the broker keeps the session (and queued QoS 1 commands) while the agent is away.</summary>
    public TimeSpan SessionExpiry { get; init; } = TimeSpan.FromDays(1);

    /// <summary>First reconnect delay; it doubles up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest reconnect delay.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The problems of these settings (empty when valid).</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Host))
            yield return "Broker:Host is empty.";
        if (Port is < 1 or > 65535)
            yield return $"Broker:Port {Port} is not a TCP port.";
        if (KeepAlive < TimeSpan.FromSeconds(1) || KeepAlive > TimeSpan.FromHours(18))
            yield return "Broker:KeepAlive must be between 1 s and 18 h.";
        if (ReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < ReconnectDelay)
            yield return "Broker:ReconnectDelay must be positive and at most MaxReconnectDelay.";
        if (UseTls && CaFile is null)
            yield return "Broker:UseTls needs Broker:CaFile (the pinned CA).";
        if ((ClientCertificateFile is null) != (ClientKeyFile is null))
            yield return "Broker:ClientCertificateFile and Broker:ClientKeyFile go together.";
        if (Password is not null && Username is null)
            yield return "Broker:Password needs Broker:Username.";
    }
}
