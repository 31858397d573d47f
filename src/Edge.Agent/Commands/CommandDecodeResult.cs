using EdgeTL.Protocol.Commands;

namespace EdgeTL.Agent.Commands;

/// <summary>Either a valid command or the error result to publish for it.</summary>
public sealed record CommandDecodeResult(CommandEnvelope? Command, CommandResult? Error)
{
    /// <summary>True when <see cref="Command"/> is set.</summary>
    public bool IsValid => Command is not null;
}
