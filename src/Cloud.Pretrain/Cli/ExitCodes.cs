namespace EdgeTL.Cloud;

/// <summary>Process exit codes of the cloud CLI.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int InvalidArguments = 2;
    public const int DataError = 3;
    public const int TrainingError = 4;
    /// <summary><c>verify</c> (or <c>sign</c>): the package is refused; the reason is printed.</summary>
    public const int PackageRejected = 5;
    /// <summary><c>publish --wait-devices</c>: at least one device did not promote the package (rolled back, rejected, failed).</summary>
    public const int DeploymentFailed = 6;
    /// <summary><c>publish --wait-devices</c>: at least one device reported nothing before the timeout (and none failed).</summary>
    public const int DeploymentTimedOut = 7;
    /// <summary>The MQTT broker could not be reached or refused the connection.</summary>
    public const int BrokerUnavailable = 8;
    public const int Cancelled = 130;
}
