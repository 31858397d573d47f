namespace EdgeTL.Agent.Commands;

/// <summary>The status code of a command result.</summary>
public enum CommandStatus
{
    /// <summary>Done.</summary>
    Ok,
    /// <summary>Queued as a job; progress and the final result follow.</summary>
    Accepted,
    /// <summary>The queue is full; try later.</summary>
    Busy,
    /// <summary>The payload is not a valid command envelope (bad JSON, missing or wrong fields).</summary>
    Malformed,
    /// <summary>No such command.</summary>
    UnknownCommand,
    /// <summary>Its <c>expiresAt</c> has passed.</summary>
    Expired,
    /// <summary>The payload is larger than the agent accepts.</summary>
    TooLarge,
    /// <summary>Sent to another device's topic.</summary>
    WrongDevice,
    /// <summary>The envelope is fine, the arguments are not.</summary>
    InvalidArguments,
    /// <summary>This id was already executed; the first result stands.</summary>
    Duplicate,
    /// <summary>Accepted, then failed while running.</summary>
    Failed,
    /// <summary>Cancelled before it finished.</summary>
    Cancelled,
}
