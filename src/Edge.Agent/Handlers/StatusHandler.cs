using EdgeTL.Agent.Services;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Protocol.Topics;

namespace EdgeTL.Agent.Handlers;

/// <summary><c>status</c>: what is served, samples, the job, the outbox, the training gate, drift and the last deployment (the same facts as the retained state).</summary>
public sealed class StatusHandler(DeviceTopics topics, AgentStore store, ModelServing serving, TrainingGateService training, JobService jobs, DriftMonitor drift,
    CommandResults results) : ICommandHandler
{
    /// <inheritdoc/>
    public string Name => CommandNames.Status;

    /// <inheritdoc/>
    public Task<CommandResult> HandleAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        _ = CommandArgs.Read(command, ProtocolJson.Default.StatusArgs);
        training.Refresh();   // status and the retained state report the same reading
        var gate = training.Current;
        var model = serving.ServedModel();
        var report = new StatusReport(topics.Device, topics.Fleet, model, serving.ServingHead(), serving.Classes, store.Samples.Count, store.Samples.LabelCounts(),
            jobs.Current is { } j ? new JobRef(j.Id, j.Kind) : null, new OutboxStats(store.Outbox.Count, store.Outbox.DroppedTotal), gate.State, gate.Reason,
            drift.LastDrift is { } d ? new DriftSummary(d.Drift, d.Mmd2, d.PValue) : null, serving.LastDeployment);
        return Task.FromResult(results.Result(command, CommandStatus.Ok, model is null ? "No model deployed." : $"Serving {model.Name} {model.Version}.", report, ProtocolJson.Default.StatusReport));
    }
}
