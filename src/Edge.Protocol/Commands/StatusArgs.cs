namespace EdgeTL.Protocol.Commands;

/// <summary>Arguments of <c>status</c>: none.</summary>
public sealed record StatusArgs;
