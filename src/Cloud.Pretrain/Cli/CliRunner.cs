using System.CommandLine;
using EdgeTL.Runtime;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Trainer;

namespace EdgeTL.Cloud;

/// <summary>Turns failures of a verb into a message on stderr and a meaningful exit code.</summary>
internal static class CliRunner
{
    /// <summary>Runs a verb's body on the thread pool; Ctrl+C (SIGINT/SIGTERM) cancels its token.</summary>
    public static Task<int> RunAsync(Func<CancellationToken, int> body, CancellationToken cancellationToken) =>
        Task.Run(() => Run(body, Console.Error, cancellationToken), CancellationToken.None);

    /// <summary>Runs an asynchronous verb; errors go to the invocation's error writer (stderr unless a caller set another).</summary>
    public static Task<int> RunAsync(ParseResult parse, Func<CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return Task.Run(() => RunAsync(body, parse.InvocationConfiguration.Error, cancellationToken), CancellationToken.None);
    }

    /// <summary>Runs a synchronous verb on the thread pool; errors go to the invocation's error writer.</summary>
    public static Task<int> RunAsync(ParseResult parse, Func<CancellationToken, int> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return Task.Run(() => Run(body, parse.InvocationConfiguration.Error, cancellationToken), CancellationToken.None);
    }

    private static async Task<int> RunAsync(Func<CancellationToken, Task<int>> body, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            return await body(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Handles(e))
        {
            return Report(e, error);
        }
    }

    private static int Run(Func<CancellationToken, int> body, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            return body(cancellationToken);
        }
        catch (Exception e) when (Handles(e))
        {
            return Report(e, error);
        }
    }

    private static bool Handles(Exception e) =>
        e is OperationCanceledException or EdgeRuntimeException or EdgeTrainerException or FormatException or CloudCliException;

    private static int Report(Exception exception, TextWriter error)
    {
        switch (exception)
        {
        case OperationCanceledException:
            error.WriteLine("Cancelled.");
            return ExitCodes.Cancelled;
        case CloudCliException e:
            error.WriteLine($"error: {e.Message}");
            return e.ExitCode;
        case PackageRejectedException e:
            error.WriteLine($"rejected [{e.Reason}]: {e.Message}");
            return ExitCodes.PackageRejected;
        case EdgeRuntimeException e:
            error.WriteLine($"error [{e.Code}]: {e.Message}");
            return ExitCodes.DataError;
        case EdgeTrainerException e:
            error.WriteLine($"error [{e.Code}]: {e.Message}");
            return e.Code switch
            {
                TrainerErrorCode.UnknownArchitecture or TrainerErrorCode.InvalidConfiguration or TrainerErrorCode.UnknownLayerGroup => ExitCodes.InvalidArguments,
                TrainerErrorCode.InvalidWeightsFile or TrainerErrorCode.WeightsMismatch or TrainerErrorCode.InvalidOnnxModel
                    or TrainerErrorCode.UnsupportedOnnxOperator or TrainerErrorCode.UnsupportedExport or TrainerErrorCode.InvalidCheckpoint => ExitCodes.DataError,
                _ => ExitCodes.TrainingError,
            };
        default:
            error.WriteLine($"error: {exception.Message}");
            return ExitCodes.InvalidArguments;
        }
    }
}
