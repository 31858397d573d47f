namespace EdgeTL.Cloud;

/// <summary>An expected failure of a cloud verb, carrying the process exit code it maps to (see <see cref="ExitCodes"/>).</summary>
internal sealed class CloudCliException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CloudCliException(int exitCode, string message, Exception? inner = null)
        : base(message, inner) => ExitCode = exitCode;

    /// <summary>Creates an exception with exit code <see cref="ExitCodes.Failed"/>.</summary>
    public CloudCliException()
        : this(ExitCodes.Failed, "The command failed.")
    {
    }

    /// <summary>Creates an exception with exit code <see cref="ExitCodes.Failed"/>.</summary>
    public CloudCliException(string message)
        : this(ExitCodes.Failed, message)
    {
    }

    /// <summary>Creates an exception with exit code <see cref="ExitCodes.Failed"/>.</summary>
    public CloudCliException(string message, Exception innerException)
        : this(ExitCodes.Failed, message, innerException)
    {
    }

    /// <summary>The process exit code.</summary>
    public int ExitCode { get; }

    /// <summary>Bad or missing arguments.</summary>
    public static CloudCliException InvalidArguments(string message) => new(ExitCodes.InvalidArguments, message);

    /// <summary>The broker could not be reached.</summary>
    public static CloudCliException BrokerUnavailable(string message, Exception? inner = null) => new(ExitCodes.BrokerUnavailable, message, inner);
}
