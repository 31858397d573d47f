using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent;

/// <summary>
/// The agent's structured log messages (source-generated). Event ids are stable and grouped by
/// area, so an operator can filter a journal by them: 1xxx broker and outbox, 2xxx commands,
/// 3xxx deployment, 4xxx learning and drift, 5xxx samples and sensors, 6xxx ONNX Runtime, 9xxx the host.
/// </summary>
internal static partial class AgentLog
{
    [LoggerMessage(1001, LogLevel.Information, "Connected to {Host}:{Port} (session present: {SessionPresent})", EventName = "BrokerConnected")]
    public static partial void BrokerConnected(this ILogger logger, string host, int port, bool sessionPresent);

    [LoggerMessage(1002, LogLevel.Warning, "Broker {Host}:{Port} not reachable ({Error}); retrying in {DelayMs} ms", EventName = "BrokerUnreachable")]
    public static partial void BrokerUnreachable(this ILogger logger, string host, int port, string error, double delayMs);

    [LoggerMessage(1003, LogLevel.Debug, "Publish to {Topic} failed", EventName = "PublishFailed")]
    public static partial void PublishFailed(this ILogger logger, Exception error, string topic);

    [LoggerMessage(1004, LogLevel.Error, "Outbox publishing failed", EventName = "OutboxFailed")]
    public static partial void OutboxFailed(this ILogger logger, Exception error);

    [LoggerMessage(1005, LogLevel.Warning, "Telemetry not recorded: {Error}", EventName = "TelemetrySkipped")]
    public static partial void TelemetrySkipped(this ILogger logger, string error);

    [LoggerMessage(2001, LogLevel.Information, "Command {Id} ({Name}): {Status} {Message}", EventName = "CommandDone")]
    public static partial void CommandDone(this ILogger logger, string id, string name, string status, string message);

    [LoggerMessage(2002, LogLevel.Error, "Command {Id} ({Name}) failed", EventName = "CommandCrashed")]
    public static partial void CommandCrashed(this ILogger logger, Exception error, string id, string name);

    [LoggerMessage(2003, LogLevel.Warning, "Job {Id} ({Kind}) was interrupted by the last stop; answered 'interrupted'", EventName = "JobInterrupted")]
    public static partial void JobInterrupted(this ILogger logger, string id, string kind);

    [LoggerMessage(4001, LogLevel.Warning, "Drift detected: {Reasons}", EventName = "DriftDetected")]
    public static partial void DriftDetected(this ILogger logger, string reasons);

    [LoggerMessage(4002, LogLevel.Warning, "{Kind} {Id} deferred: {Reason}", EventName = "TrainingDeferred")]
    public static partial void TrainingDeferred(this ILogger logger, string kind, string id, string reason);

    [LoggerMessage(4003, LogLevel.Information, "Training gate {State}: {Reason}", EventName = "TrainingGateChanged")]
    public static partial void TrainingGateChanged(this ILogger logger, string state, string reason);

    [LoggerMessage(4004, LogLevel.Information, "Shift toward domain {Domain}: {Localization}; running {Method}", EventName = "ShiftLocalized")]
    public static partial void ShiftLocalized(this ILogger logger, string domain, string localization, string method);

    [LoggerMessage(5006, LogLevel.Warning, "Sample from {Origin} not ingested: {Error}", EventName = "SampleRejected")]
    public static partial void SampleRejected(this ILogger logger, string origin, string error);

    [LoggerMessage(9001, LogLevel.Information, "{What}", EventName = "AgentEvent")]
    public static partial void Event(this ILogger logger, string what);
}
