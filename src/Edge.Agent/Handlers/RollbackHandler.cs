using EdgeTL.Agent.Services;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;

namespace EdgeTL.Agent.Handlers;

/// <summary><c>rollback</c>: serve the previous model version, or (<c>target=head</c>) the previous device head.</summary>
public sealed class RollbackHandler(DeploymentService deployment) : ICommandHandler
{
    /// <inheritdoc/>
    public string Name => CommandNames.Rollback;

    /// <inheritdoc/>
    public Task<CommandResult> HandleAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        string target = CommandArgs.Read(command, ProtocolJson.Default.RollbackArgs).Target;
        return Task.FromResult(target == "head" ? deployment.RollBackHead(command) : deployment.RollBackModel(command));
    }
}
