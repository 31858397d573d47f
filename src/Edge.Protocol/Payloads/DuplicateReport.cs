using EdgeTL.Protocol.Commands;

namespace EdgeTL.Protocol.Payloads;

/// <summary>A <c>duplicate</c> answer: when the id was first received, and that command's final result (null while it still runs).</summary>
public sealed record DuplicateReport(DateTimeOffset ReceivedAt, CommandResult? FirstResult);
