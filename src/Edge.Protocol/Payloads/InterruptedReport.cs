namespace EdgeTL.Protocol.Payloads;

/// <summary>The final result of a job that was running when the agent stopped (crash, power loss, SIGKILL), sent at the next start.</summary>
/// <param name="Kind">The job's kind.</param>
/// <param name="AcceptedAt">When it was accepted.</param>
/// <param name="RunId">The run record written for it (outcome <c>interrupted</c>).</param>
/// <param name="LastProgress">The last progress it reported, if any.</param>
public sealed record InterruptedReport(string Kind, DateTimeOffset AcceptedAt, long RunId, TrainingProgress? LastProgress);
