using System.Text.Json;

namespace EdgeTL.Protocol.Commands;

/// <summary>
/// The answer to a command, on <c>…/result/{id}</c>. Every command gets exactly one final result;
/// a job (see <see cref="CommandNames.Jobs"/>) gets <c>accepted</c> first.
/// </summary>
/// <param name="Id">The command's id (<c>_invalid</c> when the envelope had no usable id).</param>
/// <param name="Name">The command's name (empty when unknown).</param>
/// <param name="Status">The outcome.</param>
/// <param name="Message">A sentence for people.</param>
/// <param name="At">When the result was made.</param>
/// <param name="Data">The command's result record (see <see cref="CommandNames"/>), or <c>{code}</c> for a failure; absent when there is nothing more to say.</param>
public sealed record CommandResult(string Id, string Name, CommandStatus Status, string Message, DateTimeOffset At, JsonElement? Data = null)
{
    /// <summary>Protocol version of the result.</summary>
    public int Version { get; init; } = CommandNames.ProtocolVersion;

    /// <summary>True for every status but <see cref="CommandStatus.Accepted"/>: nothing more follows on the topic.</summary>
    public bool IsFinal => Status != CommandStatus.Accepted;
}
