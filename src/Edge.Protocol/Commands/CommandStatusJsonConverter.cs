using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeTL.Protocol.Commands;

/// <summary>Writes and reads <see cref="CommandStatus"/> as camelCase strings (<c>ok</c>, <c>invalidArguments</c>).</summary>
public sealed class CommandStatusJsonConverter() : JsonStringEnumConverter<CommandStatus>(JsonNamingPolicy.CamelCase, allowIntegerValues: false);
