using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;
using EdgeTL.Trainer;

namespace EdgeTL.Agent;

/// <summary>
/// The command path: MQTT message → decode (every bad input gets an error result) → bounded
/// queue (full: <c>busy</c>) → inbox claim (a replayed id runs once) → handler → result through
/// the outbox. Long commands start a job, answer <c>accepted</c>, and publish the final result
/// on the same topic when the job ends.
/// </summary>
public sealed partial class EdgeAgent
{
    private delegate Task<CommandResult> Handler(CommandEnvelope command, CommandArgs args, CancellationToken cancellationToken);

    private Dictionary<string, Handler> Handlers => _handlers ??= new(StringComparer.Ordinal)
    {
        ["status"] = StatusAsync,
        ["deploy"] = DeployAsync,
        ["rollback"] = RollBackAsync,
        ["ingest"] = IngestAsync,
        ["label"] = LabelAsync,
        ["finetune"] = FinetuneAsync,
        ["adapt"] = AdaptAsync,
        ["evaluate"] = EvaluateAsync,
        ["predict"] = PredictAsync,
        ["set-config"] = SetConfigAsync,
        ["cancel"] = CancelAsync,
    };

    private Dictionary<string, Handler>? _handlers;

    /// <summary>
    /// Takes one command message as if it came from the broker (the receive loop calls this;
    /// so can an in-process caller). Never throws for bad input: the answer is a result.
    /// </summary>
    public void Submit(string topic, byte[] payload)
    {
        var decoded = _decoder.Decode(topic, payload);
        if (decoded.Error is { } error)
        {
            PublishResult(error);
            return;
        }
        if (!_queue.Writer.TryWrite(decoded.Command!))
            PublishResult(Result(decoded.Command!, CommandStatus.Busy, $"The command queue is full ({_options.CommandQueueCapacity}); try again later."));
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        string desired = Topics.GroupDeploy(_options.Group);
        await foreach (var message in Connection.Incoming.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (message.Topic == desired)
                OnDesiredState(message.Payload);
            else
                Submit(message.Topic, message.Payload);
        }
    }

    private async Task CommandLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            LastLoopAlive = DateTimeOffset.UtcNow;
            using var tick = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            tick.CancelAfter(TimeSpan.FromMilliseconds(500));
            CommandEnvelope command;
            try
            {
                if (!await _queue.Reader.WaitToReadAsync(tick.Token).ConfigureAwait(false) || !_queue.Reader.TryRead(out command!))
                    continue;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                continue;
            }
            await ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Read-only commands: they still run when the disk is too full to record them, so a full device stays observable.</summary>
    private static readonly FrozenSet<string> RunsUnrecordedWhenFull = FrozenSet.ToFrozenSet(["status", "predict", "cancel"], StringComparer.Ordinal);

    private async Task ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        bool claimed;
        InboxEntry? existing;
        try
        {
            claimed = Store.Inbox.TryClaim(command.Id, command.Name, out existing);
        }
        catch (AgentException e) when (e.Code == AgentErrorCode.StorageFull)
        {
            if (!RunsUnrecordedWhenFull.Contains(command.Name))
            {
                PublishResult(Result(command, CommandStatus.Failed, e.Message, new JsonObject { ["code"] = e.Code.ToString() }));
                return;
            }
            (claimed, existing) = (true, null);
        }
        if (!claimed)
        {
            JsonElement? first = null;
            if (existing?.ResultJson is { } json)
                first = JsonSerializer.Deserialize(json, AgentJson.Default.CommandResult)?.Data;
            PublishResult(Result(command, CommandStatus.Duplicate, $"Command {command.Id} was already received at {existing?.ReceivedUtc:O}; it is not run again.", first));
            return;
        }
        CommandResult result;
        try
        {
            result = await Handlers[command.Name](command, new CommandArgs(command.Args), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            result = Failure(command, e);
        }
        if (result.Status != CommandStatus.Accepted)
            Complete(result);
        else
            PublishResult(result);
    }

    /// <summary>Runs <paramref name="work"/> as the one job; answers <c>accepted</c>, or <c>busy</c> when a job runs.</summary>
    private Task<CommandResult> StartJob(CommandEnvelope command, string kind, Func<CancellationToken, Task<CommandResult>> work)
    {
        bool started = Jobs.TryStart(command.Id, kind, async token =>
        {
            CommandResult final;
            try
            {
                final = await work(token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                final = Failure(command, e);
            }
            Complete(final);
        }, out string? running);
        return Task.FromResult(started
            ? Result(command, CommandStatus.Accepted, $"{kind} started; the result follows on this topic.")
            : Result(command, CommandStatus.Busy, $"Job {running} is running; one job runs at a time."));
    }

    /// <summary>Records the final result in the inbox (for duplicates) and publishes it.</summary>
    private void Complete(CommandResult result)
    {
        try
        {
            Store.Inbox.Complete(result.Id, JsonSerializer.Serialize(result, AgentJson.Default.CommandResult));
        }
        catch (InvalidOperationException)
        {
            // Internal jobs (drift, cold start) are not in the inbox, nor are read-only commands run on a full disk.
        }
        catch (AgentException e) when (e.Code == AgentErrorCode.StorageFull)
        {
            // The result is still published below; a duplicate of this id is refused without it.
        }
        PublishResult(result);
    }

    private void PublishResult(CommandResult result)
    {
        _logger.CommandDone(result.Id, result.Name, result.Status.ToString(), result.Message);
        if (result.Id.StartsWith("auto-", StringComparison.Ordinal))
            return;
        byte[] payload = JsonSerializer.SerializeToUtf8Bytes(result, AgentJson.Default.CommandResult);
        try
        {
            Store.Outbox.Enqueue(Topics.Result(result.Id), payload, droppable: false);
        }
        catch (AgentException e) when (e.Code == AgentErrorCode.StorageFull)
        {
            // The disk is full: answer directly if we can (best effort, not persisted).
            _ = Connection.PublishAsync(Topics.Result(result.Id), payload, retain: false);
        }
    }

    private CommandResult Failure(CommandEnvelope command, Exception e)
    {
        switch (e)
        {
            case InvalidCommandArgumentsException:
                return Result(command, CommandStatus.InvalidArguments, e.Message);
            case OperationCanceledException:
                return Result(command, CommandStatus.Cancelled, "Cancelled.");
            case AgentException agent:
                return Result(command, CommandStatus.Failed, e.Message, new JsonObject { ["code"] = agent.Code.ToString() });
            case EdgeTrainerException trainer:
                return Result(command, CommandStatus.Failed, e.Message, new JsonObject { ["code"] = trainer.Code.ToString() });
            case Runtime.EdgeRuntimeException runtime:
                return Result(command, CommandStatus.Failed, e.Message, new JsonObject { ["code"] = runtime.Code.ToString() });
            default:
                _logger.CommandCrashed(e, command.Id, command.Name);
                return Result(command, CommandStatus.Failed, $"Internal error: {e.GetType().Name}: {e.Message}", new JsonObject { ["code"] = "Internal" });
        }
    }

    private CommandResult Result(CommandEnvelope command, CommandStatus status, string message, JsonObject? data = null) =>
        Result(command, status, message, data is null ? null : JsonSerializer.SerializeToElement(data, AgentJsonNodes.Default.JsonObject));

    private CommandResult Result(CommandEnvelope command, CommandStatus status, string message, JsonElement? data) =>
        new(command.Id, command.Name, status, message, _time.GetUtcNow(), data);
}
