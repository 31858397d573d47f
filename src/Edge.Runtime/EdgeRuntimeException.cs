namespace EdgeTL.Runtime;

/// <summary>The one exception type of Edge.Runtime; <see cref="Code"/> says what failed.</summary>
public class EdgeRuntimeException : Exception
{
    /// <summary>Creates an exception with an error code and a message that names the bad input.</summary>
    public EdgeRuntimeException(RuntimeErrorCode code, string message, Exception? inner = null)
        : base(message, inner) => Code = code;

    /// <summary>What failed.</summary>
    public RuntimeErrorCode Code { get; }

    internal static EdgeRuntimeException Corrupt(string path, string detail) =>
        new(RuntimeErrorCode.CorruptDataFile, $"Corrupt data file '{path}': {detail}.");

    internal static EdgeRuntimeException Empty(string what) =>
        new(RuntimeErrorCode.EmptyDataset, $"{what} has no samples.");
}
