using System.Text.Json.Serialization;

namespace EdgeTL.Protocol.Commands;

/// <summary>The status code of a command result; on the wire in camelCase (<c>ok</c>, <c>invalidArguments</c>).</summary>
[JsonConverter(typeof(CommandStatusJsonConverter))]
public enum CommandStatus
{
    /// <summary>Done.</summary>
    Ok,
    /// <summary>A job started; the final result follows on the same topic.</summary>
    Accepted,
    /// <summary>The queue is full, or a job already runs; try later.</summary>
    Busy,
    /// <summary>The payload is not a valid command envelope (bad JSON, missing or wrong fields).</summary>
    Malformed,
    /// <summary>No such command.</summary>
    UnknownCommand,
    /// <summary>Its <c>expiresAt</c> has passed, or its <c>issuedAt</c> is older than the device's command lifetime.</summary>
    Expired,
    /// <summary>Its <c>issuedAt</c> is further in the future than the device's allowed clock skew.</summary>
    NotYetValid,
    /// <summary>The payload is larger than the device accepts.</summary>
    TooLarge,
    /// <summary>Sent to another device's topic (only seen by a device handed a message that is not its own).</summary>
    WrongDevice,
    /// <summary>The envelope is fine, the arguments are not.</summary>
    InvalidArguments,
    /// <summary>This id was already received; it is not run again. The data carries the first run's final result when there is one.</summary>
    Duplicate,
    /// <summary>Ran and failed; <c>data.code</c> says why.</summary>
    Failed,
    /// <summary>Cancelled before it finished.</summary>
    Cancelled,
    /// <summary>Not run now: the resource gate (temperature, load, power) is closed. Cold start and automatic jobs retry by themselves when it opens; a command can be sent again.</summary>
    Deferred,
    /// <summary>The job was running when the agent stopped (crash, power loss, kill); answered at the next start with its run record.</summary>
    Interrupted,
}
