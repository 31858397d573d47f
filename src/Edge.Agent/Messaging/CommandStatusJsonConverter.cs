using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeTL.Agent.Commands;

namespace EdgeTL.Agent.Messaging;

/// <summary>Writes <see cref="CommandStatus"/> as camelCase strings ("ok", "invalidArguments").</summary>
public sealed class CommandStatusJsonConverter() : JsonStringEnumConverter<CommandStatus>(JsonNamingPolicy.CamelCase);
