using EdgeTL.Agent.Services;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;

namespace EdgeTL.Agent.Handlers;

/// <summary><c>predict</c>: the served model's class for one image (nothing stored).</summary>
public sealed class PredictHandler(ModelServing serving, SampleFeatures samples, CommandResults results) : ICommandHandler
{
    /// <inheritdoc/>
    public string Name => CommandNames.Predict;

    /// <inheritdoc/>
    public Task<CommandResult> HandleAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var args = CommandArgs.Read(command, ProtocolJson.Default.PredictArgs);
        var features = samples.ExtractOrRefuse([args.Image]);
        var prediction = serving.Server.Predict(features, 1)[0];
        return Task.FromResult(results.Result(command, CommandStatus.Ok, $"{prediction.Label} ({prediction.Confidence:P1})", SampleFeatures.ToWire(prediction), ProtocolJson.Default.Prediction));
    }
}
