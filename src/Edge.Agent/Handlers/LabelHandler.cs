using EdgeTL.Agent.Services;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;

namespace EdgeTL.Agent.Handlers;

/// <summary><c>label</c>: give a stored sample its class (which may complete the cold-start set).</summary>
public sealed class LabelHandler(SampleIntake intake, CommandResults results) : ICommandHandler
{
    /// <inheritdoc/>
    public string Name => CommandNames.Label;

    /// <inheritdoc/>
    public Task<CommandResult> HandleAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var args = CommandArgs.Read(command, ProtocolJson.Default.LabelArgs);
        return Task.FromResult(intake.Label(args.SampleId, args.Label)
            ? results.Result(command, CommandStatus.Ok, $"Sample {args.SampleId} is now '{args.Label}'.")
            : results.Result(command, CommandStatus.InvalidArguments, $"There is no sample {args.SampleId}."));
    }
}
