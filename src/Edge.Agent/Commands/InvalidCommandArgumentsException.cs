namespace EdgeTL.Agent.Commands;

/// <summary>A command's arguments are wrong; the message names the field.</summary>
public sealed class InvalidCommandArgumentsException(string message) : Exception(message);
