using EdgeTL.Runtime;
using EdgeTL.Trainer;

namespace EdgeTL.Cloud;

/// <summary>Turns failures of a verb into a message on stderr and a meaningful exit code.</summary>
internal static class CliRunner
{
    /// <summary>Runs a verb's body on the thread pool; Ctrl+C (SIGINT/SIGTERM) cancels its token.</summary>
    public static Task<int> RunAsync(Func<CancellationToken, int> body, CancellationToken cancellationToken) =>
        Task.Run(() => Run(body, cancellationToken), CancellationToken.None);

    private static int Run(Func<CancellationToken, int> body, CancellationToken cancellationToken)
    {
        try
        {
            return body(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Cancelled.");
            return ExitCodes.Cancelled;
        }
        catch (EdgeRuntimeException e)
        {
            Console.Error.WriteLine($"error [{e.Code}]: {e.Message}");
            return ExitCodes.DataError;
        }
        catch (EdgeTrainerException e)
        {
            Console.Error.WriteLine($"error [{e.Code}]: {e.Message}");
            return e.Code switch
            {
                TrainerErrorCode.UnknownArchitecture or TrainerErrorCode.InvalidConfiguration or TrainerErrorCode.UnknownLayerGroup => ExitCodes.InvalidArguments,
                TrainerErrorCode.InvalidWeightsFile or TrainerErrorCode.WeightsMismatch or TrainerErrorCode.InvalidOnnxModel
                    or TrainerErrorCode.UnsupportedOnnxOperator or TrainerErrorCode.UnsupportedExport or TrainerErrorCode.InvalidCheckpoint => ExitCodes.DataError,
                _ => ExitCodes.TrainingError,
            };
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidArguments;
        }
    }
}
