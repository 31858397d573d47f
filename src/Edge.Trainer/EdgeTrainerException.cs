namespace EdgeTL.Trainer;

/// <summary>The one exception type of Edge.Trainer; <see cref="Code"/> says what failed.</summary>
public sealed class EdgeTrainerException : Exception
{
    /// <summary>Creates an exception with an error code and a message that names the bad input.</summary>
    public EdgeTrainerException(TrainerErrorCode code, string message, Exception? inner = null)
        : base(message, inner) => Code = code;

    /// <summary>What failed.</summary>
    public TrainerErrorCode Code { get; }
}
