using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Services;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;

namespace EdgeTL.Agent.Handlers;

/// <summary><c>deploy</c> (a job): fetch, verify, install and health-check a package, then serve it or keep what serves.</summary>
public sealed class DeployHandler(DeploymentService deployment, JobService jobs) : ICommandHandler
{
    /// <inheritdoc/>
    public string Name => CommandNames.Deploy;

    /// <inheritdoc/>
    public Task<CommandResult> HandleAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        string url = CommandArgs.Read(command, ProtocolJson.Default.DeployArgs).Url;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var source))
            throw new InvalidCommandArgumentsException($"args.url '{url}' is not an absolute URL (file://, http://, https://).");
        return Task.FromResult(jobs.Start(command, CommandNames.Deploy, token => deployment.DeployAsync(command, source, token)));
    }
}
