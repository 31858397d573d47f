using System.Text.Json;

namespace EdgeTL.Agent.Commands;

/// <summary>The answer to a command, published on its result topic.</summary>
public sealed record CommandResult(string Id, string Name, CommandStatus Status, string Message, DateTimeOffset At, JsonElement? Data = null)
{
    /// <summary>Protocol version of the result.</summary>
    public int Version { get; init; } = CommandNames.ProtocolVersion;
}
