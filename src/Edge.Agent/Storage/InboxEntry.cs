namespace EdgeTL.Agent.Storage;

/// <summary>A command the agent has seen, stored by id: when it arrived, and its result once it has one.</summary>
public sealed class InboxEntry
{
    /// <summary>The command id (the document key).</summary>
    public string Id { get; set; } = "";

    /// <summary>The command name.</summary>
    public string Name { get; set; } = "";

    /// <summary>When it was first received.</summary>
    public DateTime ReceivedUtc { get; set; }

    /// <summary>The result JSON once the command finished; null while it runs.</summary>
    public string? ResultJson { get; set; }

    /// <summary>The job's kind once it was accepted as a job (deploy, finetune, adapt); null for commands answered at once.</summary>
    public string? JobKind { get; set; }

    /// <summary>When the job was accepted.</summary>
    public DateTime? AcceptedUtc { get; set; }

    /// <summary>The job's last reported progress (a <c>training</c> metric's data), kept so an interrupted job can say how far it got.</summary>
    public string? ProgressJson { get; set; }
}
