using System.Text.Json;
using EdgeTL.Agent.Jobs;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent.Services;

/// <summary>
/// Long commands as jobs, one at a time: started with an <c>accepted</c> answer, recorded in the
/// inbox before their work begins, answered with their final result on the same topic, and, when
/// the agent did not live to finish one, answered <c>interrupted</c> at the next start.
/// </summary>
public sealed partial class JobService
{
    private readonly JobRunner _runner;
    private readonly AgentStore _store;
    private readonly CommandResults _results;
    private readonly MetricsPublisher _metrics;
    private readonly ILogger _logger;
    private int _automatic;

    /// <summary>Creates the job service over <paramref name="runner"/>.</summary>
    public JobService(JobRunner runner, AgentStore store, CommandResults results, MetricsPublisher metrics, ILogger<JobService> logger)
    {
        _runner = runner;
        _store = store;
        _results = results;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>The job running now, or null.</summary>
    public (string Id, string Kind)? Current => _runner.Current;

    /// <summary>Raised with the job's id after its final result, once the slot is free again: work that waited for it may start.</summary>
    public event Action<string>? Released;

    /// <summary>A new id for an automatic job: <paramref name="prefix"/> and a number.</summary>
    public string AutomaticId(string prefix) => $"{prefix}-{Interlocked.Increment(ref _automatic)}";

    /// <summary>
    /// Runs <paramref name="work"/> as the one job; answers <c>accepted</c>, or <c>busy</c> when a job runs.
    /// The job is recorded as accepted in the inbox before its work begins, so its final result can
    /// never be overwritten by that record (a fast job would otherwise look interrupted at the next start).
    /// </summary>
    public CommandResult Start(CommandEnvelope command, string kind, Func<CancellationToken, CommandResult> work) =>
        Start(command, kind, token => Task.FromResult(work(token)));

    /// <inheritdoc cref="Start(CommandEnvelope, string, Func{CancellationToken, CommandResult})"/>
    public CommandResult Start(CommandEnvelope command, string kind, Func<CancellationToken, Task<CommandResult>> work)
    {
        var recorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        CommandResult? final = null;
        bool started = _runner.TryStart(command.Id, kind, async token =>
        {
            await recorded.Task.ConfigureAwait(false);
            try
            {
                final = await work(token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                final = _results.Failure(command, e);
            }
        }, out string? running, whenReleased: () =>
        {
            _results.Complete(final ?? _results.Failure(command, new InvalidOperationException("The job ended without a result.")));
            try
            {
                Released?.Invoke(command.Id);
            }
            catch (Exception e) when (e is AgentException or InvalidOperationException or IOException)
            {
                LogReleasedFailed(_logger, command.Id, e);
            }
        });
        if (started)
        {
            try
            {
                if (!CommandResults.IsAutomatic(command.Id))
                    _store.Inbox.MarkAccepted(command.Id, kind);
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
        return started
            ? _results.Result(command, CommandStatus.Accepted, $"{kind} started; the result follows on this topic.")
            : running is null
                ? _results.Result(command, CommandStatus.Busy, "The agent is stopping; send it again once it is back.")
                : _results.Result(command, CommandStatus.Busy, $"Job {running} is running; one job runs at a time.");
    }

    /// <summary>Publishes a throttled progress point and keeps it with the job, so an interrupted job can say how far it got.</summary>
    public void PublishProgress(TrainingProgress point)
    {
        ArgumentNullException.ThrowIfNull(point);
        _metrics.Publish(MetricKinds.Training, point, ProtocolJson.Default.TrainingProgress);
        if (!CommandResults.IsAutomatic(point.Job))
            _store.Inbox.RecordProgress(point.Job, JsonSerializer.Serialize(point, ProtocolJson.Default.TrainingProgress));
    }

    /// <summary>
    /// At start: every job the last run of the agent accepted and never finished (it was killed, or
    /// lost power) gets its final <c>interrupted</c> result and a run record, so nobody waits forever.
    /// </summary>
    public void AnswerInterrupted()
    {
        foreach (var entry in _store.Inbox.Interrupted())
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
            long runId = _store.Runs.Add(entry.JobKind!, entry.Id, "interrupted", entry.ProgressJson ?? "{}");
            var command = new CommandEnvelope(entry.Id, entry.Name, acceptedAt);
            var report = new InterruptedReport(entry.JobKind!, acceptedAt, runId, progress);
            _logger.JobInterrupted(entry.Id, entry.JobKind!);
            _results.Complete(_results.Result(command, CommandStatus.Interrupted,
                $"The {entry.JobKind} job accepted at {acceptedAt:O} was interrupted: the agent stopped before it finished{(progress is null ? "" : $" (at epoch {progress.Epoch} of {progress.Epochs})")}. Nothing it made was kept; send the command again with a new id.",
                report, ProtocolJson.Default.InterruptedReport));
        }
    }

    [LoggerMessage(EventId = 3012, EventName = "JobReleasedHandlerFailed", Level = LogLevel.Warning, Message = "After job {Id}: what waited for the slot could not start")]
    private static partial void LogReleasedFailed(ILogger logger, string id, Exception exception);
}
