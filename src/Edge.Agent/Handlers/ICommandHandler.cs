using EdgeTL.Protocol.Commands;

namespace EdgeTL.Agent.Handlers;

/// <summary>
/// One command of the device protocol. A handler reads its arguments, does its work through the
/// services it was given, and returns the answer: the final result, or <c>accepted</c> when it
/// started a job (whose final result the job publishes). It never sees the broker.
/// </summary>
public interface ICommandHandler
{
    /// <summary>The command it handles (<see cref="CommandNames"/>).</summary>
    string Name { get; }

    /// <summary>Handles one decoded, claimed command. Bad arguments throw (answered <c>invalidArguments</c>); so may failures (answered by their code).</summary>
    Task<CommandResult> HandleAsync(CommandEnvelope command, CancellationToken cancellationToken);
}
