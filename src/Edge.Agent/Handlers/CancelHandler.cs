using EdgeTL.Agent.Jobs;
using EdgeTL.Agent.Services;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;

namespace EdgeTL.Agent.Handlers;

/// <summary><c>cancel</c>: cancel the running job with the given id (its own result then says <c>cancelled</c>).</summary>
public sealed class CancelHandler(JobRunner jobs, CommandResults results) : ICommandHandler
{
    /// <inheritdoc/>
    public string Name => CommandNames.Cancel;

    /// <inheritdoc/>
    public Task<CommandResult> HandleAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        string target = CommandArgs.Read(command, ProtocolJson.Default.CancelArgs).Id;
        return Task.FromResult(jobs.Cancel(target)
            ? results.Result(command, CommandStatus.Ok, $"Job {target} is being cancelled; its own result will say Cancelled.")
            : results.Result(command, CommandStatus.InvalidArguments, $"No running job has id {target}."));
    }
}
