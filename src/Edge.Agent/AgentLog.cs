using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent;

/// <summary>The agent's structured log messages (source-generated).</summary>
internal static partial class AgentLog
{
    [LoggerMessage(1, LogLevel.Information, "Connected to {Host}:{Port} (session present: {SessionPresent})")]
    public static partial void BrokerConnected(this ILogger logger, string host, int port, bool sessionPresent);

    [LoggerMessage(2, LogLevel.Warning, "Broker {Host}:{Port} not reachable ({Error}); retrying in {DelayMs} ms")]
    public static partial void BrokerUnreachable(this ILogger logger, string host, int port, string error, double delayMs);

    [LoggerMessage(3, LogLevel.Debug, "Publish to {Topic} failed")]
    public static partial void PublishFailed(this ILogger logger, Exception error, string topic);

    [LoggerMessage(4, LogLevel.Information, "Command {Id} ({Name}): {Status} {Message}")]
    public static partial void CommandDone(this ILogger logger, string id, string name, string status, string message);

    [LoggerMessage(5, LogLevel.Error, "Command {Id} ({Name}) failed")]
    public static partial void CommandCrashed(this ILogger logger, Exception error, string id, string name);

    [LoggerMessage(6, LogLevel.Warning, "Drift detected: {Reasons}")]
    public static partial void DriftDetected(this ILogger logger, string reasons);

    [LoggerMessage(7, LogLevel.Error, "Outbox publishing failed")]
    public static partial void OutboxFailed(this ILogger logger, Exception error);

    [LoggerMessage(8, LogLevel.Warning, "Sample from {Origin} not ingested: {Error}")]
    public static partial void SampleRejected(this ILogger logger, string origin, string error);

    [LoggerMessage(9, LogLevel.Information, "{What}")]
    public static partial void Event(this ILogger logger, string what);

    [LoggerMessage(10, LogLevel.Warning, "Telemetry not recorded: {Error}")]
    public static partial void TelemetrySkipped(this ILogger logger, string error);
}
