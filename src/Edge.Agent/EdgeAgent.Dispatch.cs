using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Learning;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Trainer;

namespace EdgeTL.Agent;

/// <summary>
/// The command path: MQTT message → decode (every bad input gets an error result) → bounded
/// queue (full: <c>busy</c>) → inbox claim (a replayed id runs once) → handler → result through
/// the outbox. Long commands start a job, answer <c>accepted</c>, and publish the final result
/// on the same topic when the job ends; a job the agent did not live to finish is answered
/// <c>interrupted</c> at the next start.
/// </summary>
public sealed partial class EdgeAgent
{
    private delegate Task<CommandResult> Handler(CommandEnvelope command, CancellationToken cancellationToken);

    private Dictionary<string, Handler> Handlers => _handlers ??= new(StringComparer.Ordinal)
    {
        [CommandNames.Status] = StatusAsync,
        [CommandNames.Deploy] = DeployAsync,
        [CommandNames.Rollback] = RollBackAsync,
        [CommandNames.Ingest] = IngestAsync,
        [CommandNames.Label] = LabelAsync,
        [CommandNames.Finetune] = FinetuneAsync,
        [CommandNames.Adapt] = AdaptAsync,
        [CommandNames.Evaluate] = EvaluateAsync,
        [CommandNames.Predict] = PredictAsync,
        [CommandNames.SetConfig] = SetConfigAsync,
        [CommandNames.Cancel] = CancelAsync,
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
    private static readonly FrozenSet<string> RunsUnrecordedWhenFull = FrozenSet.ToFrozenSet([CommandNames.Status, CommandNames.Predict, CommandNames.Cancel], StringComparer.Ordinal);

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
                PublishResult(Result(command, CommandStatus.Failed, e.Message, new ErrorReport(e.Code.ToString()), ProtocolJson.Default.ErrorReport));
                return;
            }
            (claimed, existing) = (true, null);
        }
        if (!claimed)
        {
            PublishResult(Duplicate(command, existing));
            return;
        }
        CommandResult result;
        try
        {
            result = await Handlers[command.Name](command, cancellationToken).ConfigureAwait(false);
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

    private CommandResult Duplicate(CommandEnvelope command, InboxEntry? existing)
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

    /// <summary>Reads the command's arguments as <typeparamref name="T"/>; a bad field is an <c>invalidArguments</c> answer naming it.</summary>
    private static T ArgsOf<T>(CommandEnvelope command, JsonTypeInfo<T> type) where T : class => PayloadReader.Read(command.Args, type, "args");

    /// <summary>
    /// Runs <paramref name="work"/> as the one job; answers <c>accepted</c>, or <c>busy</c> when a job runs.
    /// The job is recorded as accepted in the inbox before its work begins, so its final result can
    /// never be overwritten by that record (a fast job would otherwise look interrupted at the next start).
    /// </summary>
    private Task<CommandResult> StartJob(CommandEnvelope command, string kind, Func<CancellationToken, Task<CommandResult>> work)
    {
        var recorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        CommandResult? final = null;
        bool started = Jobs.TryStart(command.Id, kind, async token =>
        {
            await recorded.Task.ConfigureAwait(false);
            try
            {
                final = await work(token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                final = Failure(command, e);
            }
        }, out string? running, whenReleased: () => Complete(final ?? Failure(command, new InvalidOperationException("The job ended without a result."))));
        if (started)
        {
            try
            {
                if (!IsAutomatic(command.Id))
                    Store.Inbox.MarkAccepted(command.Id, kind);
            }
            catch (Exception e) when (e is InvalidOperationException or AgentException)
            {
                // Not in the inbox (a read-only command on a full disk) or the disk is full: the job runs, unrecorded.
            }
            finally
            {
                recorded.SetResult();
            }
        }
        return Task.FromResult(started
            ? Result(command, CommandStatus.Accepted, $"{kind} started; the result follows on this topic.")
            : Result(command, CommandStatus.Busy, $"Job {running} is running; one job runs at a time."));
    }

    /// <summary>
    /// At start: every job the last run of the agent accepted and never finished (it was killed, or
    /// lost power) gets its final <c>interrupted</c> result and a run record, so nobody waits forever.
    /// </summary>
    private void AnswerInterruptedJobs()
    {
        foreach (var entry in Store.Inbox.Interrupted())
        {
            TrainingProgress? progress = null;
            if (entry.ProgressJson is { } json)
            {
                try
                {
                    progress = JsonSerializer.Deserialize(json, ProtocolJson.Default.TrainingProgress);
                }
                catch (JsonException)
                {
                }
            }
            var acceptedAt = new DateTimeOffset(DateTime.SpecifyKind(entry.AcceptedUtc ?? entry.ReceivedUtc, DateTimeKind.Utc));
            long runId = Store.Runs.Add(entry.JobKind!, entry.Id, "interrupted", entry.ProgressJson ?? "{}");
            var command = new CommandEnvelope(entry.Id, entry.Name, acceptedAt);
            var report = new InterruptedReport(entry.JobKind!, acceptedAt, runId, progress);
            _logger.JobInterrupted(entry.Id, entry.JobKind!);
            Complete(Result(command, CommandStatus.Interrupted,
                $"The {entry.JobKind} job accepted at {acceptedAt:O} was interrupted: the agent stopped before it finished{(progress is null ? "" : $" (at epoch {progress.Epoch} of {progress.Epochs})")}. Nothing it made was kept; send the command again with a new id.",
                report, ProtocolJson.Default.InterruptedReport));
        }
    }

    /// <summary>Records the final result in the inbox (for duplicates) and publishes it.</summary>
    private void Complete(CommandResult result)
    {
        try
        {
            Store.Inbox.Complete(result.Id, JsonSerializer.Serialize(result, ProtocolJson.Default.CommandResult));
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

    private static bool IsAutomatic(string id) => id.StartsWith("auto-", StringComparison.Ordinal);

    private void PublishResult(CommandResult result)
    {
        _logger.CommandDone(result.Id, result.Name, result.Status.ToString(), result.Message);
        if (IsAutomatic(result.Id))
            return;
        byte[] payload = JsonSerializer.SerializeToUtf8Bytes(result, ProtocolJson.Default.CommandResult);
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

    private CommandResult Failed(CommandEnvelope command, string message, string code) =>
        Result(command, CommandStatus.Failed, message, new ErrorReport(code), ProtocolJson.Default.ErrorReport);

    private CommandResult Result(CommandEnvelope command, CommandStatus status, string message) =>
        new(command.Id, command.Name, status, message, _time.GetUtcNow());

    private CommandResult Result<T>(CommandEnvelope command, CommandStatus status, string message, T data, JsonTypeInfo<T> type) =>
        new(command.Id, command.Name, status, message, _time.GetUtcNow(), JsonSerializer.SerializeToElement(data, type));
}
