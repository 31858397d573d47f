using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Protocol.Topics;
using EdgeTL.Trainer;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent.Services;

/// <summary>
/// Results: how a command's answer is built (every failure mapped to its status and code), recorded
/// in the inbox (so a duplicate can carry it) and queued in the outbox on <c>result/{id}</c>.
/// Automatic jobs (ids starting <c>auto-</c>) have no result topic: only their metrics are published.
/// </summary>
public sealed class CommandResults
{
    private readonly AgentStore _store;
    private readonly DeviceTopics _topics;
    private readonly MqttConnection _connection;
    private readonly MetricsPublisher _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the result path over the store's inbox and outbox.</summary>
    public CommandResults(AgentStore store, DeviceTopics topics, MqttConnection connection, MetricsPublisher metrics, TimeProvider time, ILogger<CommandResults> logger)
    {
        _store = store;
        _topics = topics;
        _connection = connection;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    /// <summary>Whether <paramref name="id"/> is an automatic job's (cold start, drift adaptation).</summary>
    public static bool IsAutomatic(string id) => id.StartsWith("auto-", StringComparison.Ordinal);

    /// <summary>A result without data.</summary>
    public CommandResult Result(CommandEnvelope command, CommandStatus status, string message) =>
        new(command.Id, command.Name, status, message, _time.GetUtcNow());

    /// <summary>A result with <paramref name="data"/>.</summary>
    public CommandResult Result<T>(CommandEnvelope command, CommandStatus status, string message, T data, JsonTypeInfo<T> type) =>
        new(command.Id, command.Name, status, message, _time.GetUtcNow(), JsonSerializer.SerializeToElement(data, type));

    /// <summary>A <c>failed</c> result with its error code.</summary>
    public CommandResult Failed(CommandEnvelope command, string message, string code) =>
        Result(command, CommandStatus.Failed, message, new ErrorReport(code), ProtocolJson.Default.ErrorReport);

    /// <summary>The answer to a command whose handler threw <paramref name="e"/>.</summary>
    public CommandResult Failure(CommandEnvelope command, Exception e)
    {
        switch (e)
        {
            case InvalidCommandArgumentsException or ProtocolException:
                return Result(command, CommandStatus.InvalidArguments, e.Message);
            case OperationCanceledException:
                return Result(command, CommandStatus.Cancelled, "Cancelled.");
            case TrainingDeferredException deferred:
                return Deferred(command, deferred.Kind, deferred.Message);
            case AgentException agent:
                return Failed(command, e.Message, agent.Code.ToString());
            case EdgeTrainerException trainer:
                return Failed(command, e.Message, trainer.Code.ToString());
            case Runtime.EdgeRuntimeException runtime:
                return Failed(command, e.Message, runtime.Code.ToString());
            default:
                _logger.CommandCrashed(e, command.Id, command.Name);
                return Failed(command, $"Internal error: {e.GetType().Name}: {e.Message}", "Internal");
        }
    }

    /// <summary>A <c>deferred</c> answer to a command, with the <c>deferred</c> metric.</summary>
    public CommandResult Deferred(CommandEnvelope command, string kind, string reason)
    {
        var report = new DeferredReport(command.Id, kind, reason, RetriesWhenOpen: false);
        _logger.TrainingDeferred(kind, command.Id, reason);
        _metrics.Publish(MetricKinds.Deferred, report, ProtocolJson.Default.DeferredReport, droppable: false);
        return Result(command, CommandStatus.Deferred, $"{reason}. The {kind} did not run; send it again when the gate opens (see state.training).", report, ProtocolJson.Default.DeferredReport);
    }

    /// <summary>The answer to an id seen before: when, and its final result if it has one.</summary>
    public CommandResult Duplicate(CommandEnvelope command, InboxEntry? existing)
    {
        CommandResult? first = null;
        if (existing?.ResultJson is { } json)
        {
            try
            {
                first = JsonSerializer.Deserialize(json, ProtocolJson.Default.CommandResult);
            }
            catch (JsonException)
            {
                // A result stored by an older agent in another shape: the duplicate still says when the id was seen.
            }
        }
        var receivedAt = existing is null ? _time.GetUtcNow() : new DateTimeOffset(DateTime.SpecifyKind(existing.ReceivedUtc, DateTimeKind.Utc));
        string outcome = first is null ? "it has no final result yet" : $"its final result was '{JsonNamingPolicy.CamelCase.ConvertName(first.Status.ToString())}'";
        return Result(command, CommandStatus.Duplicate, $"Command {command.Id} was already received at {receivedAt:O}; it is not run again ({outcome}).",
            new DuplicateReport(receivedAt, first), ProtocolJson.Default.DuplicateReport);
    }

    /// <summary>Records the final result in the inbox (for duplicates) and publishes it.</summary>
    public void Complete(CommandResult result)
    {
        try
        {
            _store.Inbox.Complete(result.Id, JsonSerializer.Serialize(result, ProtocolJson.Default.CommandResult));
        }
        catch (InvalidOperationException)
        {
            // Internal jobs (drift, cold start) are not in the inbox, nor are read-only commands run on a full disk.
        }
        catch (AgentException e) when (e.Code == AgentErrorCode.StorageFull)
        {
            // The result is still published below; a duplicate of this id is refused without it.
        }
        Publish(result);
    }

    /// <summary>Queues <paramref name="result"/> on its result topic (not recorded: an intermediate answer, or one to a command that never ran).</summary>
    public void Publish(CommandResult result)
    {
        _logger.CommandDone(result.Id, result.Name, result.Status.ToString(), result.Message);
        if (IsAutomatic(result.Id))
            return;
        byte[] payload = JsonSerializer.SerializeToUtf8Bytes(result, ProtocolJson.Default.CommandResult);
        try
        {
            _store.Outbox.Enqueue(_topics.Result(result.Id), payload, droppable: false);
        }
        catch (AgentException e) when (e.Code == AgentErrorCode.StorageFull)
        {
            // The disk is full: answer directly if we can (best effort, not persisted).
            _ = _connection.PublishAsync(_topics.Result(result.Id), payload, retain: false);
        }
    }
}
