using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Services;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;

namespace EdgeTL.Agent.Handlers;

/// <summary><c>evaluate</c>: accuracy of what serves on the labelled samples (of one domain, or all), published as a metric too.</summary>
public sealed class EvaluateHandler(ModelServing serving, SampleFeatures samples, AgentStore store, MetricsPublisher metrics, CommandResults results) : ICommandHandler
{
    /// <inheritdoc/>
    public string Name => CommandNames.Evaluate;

    /// <inheritdoc/>
    public Task<CommandResult> HandleAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        string? domain = CommandArgs.Read(command, ProtocolJson.Default.EvaluateArgs).Domain;
        var set = samples.LabelledFeaturesOf(store.Samples.Labelled(domain), cancellationToken);
        var predictions = serving.Server.Predict(set.Features, set.Count);
        int correct = predictions.Where((p, i) => p.Label == set.Classes[set.Labels[i]]).Count();
        double accuracy = (double)correct / set.Count;
        var report = new EvaluationReport(accuracy, set.Count, domain);
        metrics.Publish(MetricKinds.Evaluation, report, ProtocolJson.Default.EvaluationReport);
        return Task.FromResult(results.Result(command, CommandStatus.Ok, $"Accuracy {accuracy:P1} on {set.Count} labelled samples.", report, ProtocolJson.Default.EvaluationReport));
    }
}
