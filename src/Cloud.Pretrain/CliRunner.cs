using EdgeTL.Runtime;
using EdgeTL.Trainer;

namespace EdgeTL.Cloud;

/// <summary>Turns failures of a verb into a message on stderr and a meaningful exit code.</summary>
internal static class CliRunner
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
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
            return e.Code is TrainerErrorCode.UnknownArchitecture or TrainerErrorCode.InvalidConfiguration
                ? ExitCodes.InvalidArguments
                : ExitCodes.TrainingError;
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidArguments;
        }
    }
}
