namespace EdgeTL.Agent;

/// <summary>The one exception type of Edge.Agent; <see cref="Code"/> says what failed.</summary>
public sealed class AgentException : Exception
{
    /// <summary>Creates an exception with an error code and a message that names the bad input.</summary>
    public AgentException(AgentErrorCode code, string message, Exception? inner = null)
        : base(message, inner) => Code = code;

    /// <summary>What failed.</summary>
    public AgentErrorCode Code { get; }
}
