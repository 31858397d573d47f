using EdgeTL.Agent.Services;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;

namespace EdgeTL.Agent.Handlers;

/// <summary><c>ingest</c>: store a sample (labelled or not); an unlabelled one is predicted and watched for drift.</summary>
public sealed class IngestHandler(SampleIntake intake, CommandResults results) : ICommandHandler
{
    /// <inheritdoc/>
    public string Name => CommandNames.Ingest;

    /// <inheritdoc/>
    public Task<CommandResult> HandleAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var args = CommandArgs.Read(command, ProtocolJson.Default.IngestArgs);
        var (sampleId, prediction) = intake.Ingest(args.Image, args.Label, args.Domain, "mqtt");
        var report = new IngestReport(sampleId, prediction is null ? null : SampleFeatures.ToWire(prediction));
        return Task.FromResult(results.Result(command, CommandStatus.Ok, $"Stored sample {sampleId}.", report, ProtocolJson.Default.IngestReport));
    }
}
