namespace EdgeTL.Cloud;

/// <summary>Process exit codes of the cloud CLI.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int InvalidArguments = 2;
    public const int DataError = 3;
    public const int TrainingError = 4;
    public const int Cancelled = 130;
}
