using static TorchSharp.torch;

namespace EdgeTL.Trainer;

/// <summary>
/// Whether libtorch loads on this machine. A device without a usable libtorch (e.g. a Jetson
/// before its natives are built) keeps serving through ONNX Runtime and reports training as
/// unavailable instead of crashing.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lazy<(bool Available, string Detail)> Probe = new(Load);

    /// <summary>True when tensors can be created.</summary>
    public static bool IsAvailable => Probe.Value.Available;

    /// <summary>The libtorch device and thread count, or why loading failed.</summary>
    public static string Describe() => Probe.Value.Detail;

    /// <summary>Throws <see cref="TrainerErrorCode.TorchUnavailable"/> when libtorch cannot be used.</summary>
    public static void EnsureAvailable()
    {
        if (!IsAvailable)
            throw new EdgeTrainerException(TrainerErrorCode.TorchUnavailable, $"Training is unavailable on this machine: {Describe()}");
    }

    private static (bool, string) Load()
    {
        try
        {
            using var probe = ones(2, 2).sum();
            string device = cuda.is_available() ? $"CUDA ({cuda.device_count()} device(s))" : "CPU";
            return (probe.item<float>() == 4f, $"libtorch loaded; device {device}; {get_num_threads()} threads");
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException or InvalidOperationException)
        {
            return (false, $"libtorch could not be loaded ({e.GetBaseException().Message})");
        }
    }
}
