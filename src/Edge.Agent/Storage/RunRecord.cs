namespace EdgeTL.Agent.Storage;

/// <summary>One training or adaptation run: what ran, how it ended, and its metrics and curves (JSON).</summary>
public sealed class RunRecord
{
    /// <summary>Sequence number (auto-increment).</summary>
    public long Id { get; set; }

    /// <summary>"finetune", "cold-start" or "adapt".</summary>
    public string Kind { get; set; } = "";

    /// <summary>The command id (or the automatic job's id) that ran it.</summary>
    public string CommandId { get; set; } = "";

    /// <summary>How it ended: "promoted", "rejected", "rolled-back", "failed".</summary>
    public string Outcome { get; set; } = "";

    /// <summary>Its metrics and curves, as published.</summary>
    public string Json { get; set; } = "";

    /// <summary>When it ended, UTC ticks.</summary>
    public long FinishedTicks { get; set; }
}
