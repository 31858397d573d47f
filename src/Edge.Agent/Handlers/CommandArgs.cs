using System.Text.Json.Serialization.Metadata;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;

namespace EdgeTL.Agent.Handlers;

/// <summary>A command's arguments as their protocol record.</summary>
internal static class CommandArgs
{
    /// <summary>Reads the command's arguments as <typeparamref name="T"/>; a bad field is an <c>invalidArguments</c> answer naming it.</summary>
    public static T Read<T>(CommandEnvelope command, JsonTypeInfo<T> type) where T : class => PayloadReader.Read(command.Args, type, "args");
}
