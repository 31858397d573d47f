using System.Globalization;
using MQTTnet;
using MQTTnet.Formatter;

namespace EdgeTL.Cloud;

/// <summary>A broker given as <c>host:port</c> (port 1883 when omitted), and how the CLI connects to it.</summary>
/// <param name="Host">Host name or address.</param>
/// <param name="Port">TCP port.</param>
internal sealed record BrokerAddress(string Host, int Port)
{
    /// <summary>Parses <c>host[:port]</c>.</summary>
    public static BrokerAddress Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        int colon = text.LastIndexOf(':');
        if (colon < 0)
            return new(text, 1883);
        if (colon == 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            throw CloudCliException.InvalidArguments($"--broker '{text}' is not host:port.");
        return new(text[..colon], port);
    }

    /// <summary>MQTT 5 client options with a fresh session and a unique client id.</summary>
    public MqttClientOptions ClientOptions(string clientIdPrefix) =>
        new MqttClientOptionsBuilder()
            .WithTcpServer(Host, Port)
            .WithClientId($"{clientIdPrefix}-{Guid.NewGuid():N}")
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(true)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();

    /// <summary>Connects <paramref name="client"/>; an unreachable or refusing broker is <see cref="ExitCodes.BrokerUnavailable"/>.</summary>
    public async Task ConnectAsync(IMqttClient client, string clientIdPrefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        try
        {
            var result = await client.ConnectAsync(ClientOptions(clientIdPrefix), cancellationToken).ConfigureAwait(false);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
                throw CloudCliException.BrokerUnavailable($"{this} refused the connection: {result.ResultCode} {result.ReasonString}");
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or System.Net.Sockets.SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw CloudCliException.BrokerUnavailable($"Cannot reach the MQTT broker at {this}: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}");
}
