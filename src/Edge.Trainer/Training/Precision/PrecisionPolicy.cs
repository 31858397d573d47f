using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Training.Precision;

/// <summary>
/// Chooses the compute type from configuration and from what the device reports: on CUDA fp16
/// (with loss scaling), on a CPU bf16 where it has native bf16 instructions (AVX512_BF16 or
/// AMX), otherwise fp32. There is one code path for every device; only the type differs. The
/// training loop measures before it takes bf16 for <see cref="PrecisionMode.Auto"/> (<see cref="PrecisionProbe"/>).
/// </summary>
public static class PrecisionPolicy
{
    private static readonly Lazy<bool> LazyCpuBf16 = new(DetectCpuBf16);

    /// <summary>True when this CPU has native bfloat16 arithmetic.</summary>
    public static bool CpuSupportsBf16 => LazyCpuBf16.Value;

    /// <summary>The compute type for <paramref name="mode"/> on <paramref name="device"/>.</summary>
    public static ScalarType Resolve(PrecisionMode mode, DeviceType device = DeviceType.CPU) => mode switch
    {
        PrecisionMode.Fp32 => ScalarType.Float32,
        PrecisionMode.Bf16 => ScalarType.BFloat16,
        PrecisionMode.Fp16 => ScalarType.Float16,
        _ when device == DeviceType.CUDA => ScalarType.Float16,
        _ when CpuSupportsBf16 => ScalarType.BFloat16,
        _ => ScalarType.Float32,
    };

    /// <summary>Whether a compute type needs dynamic loss scaling (only fp16: bf16 has fp32's exponent range).</summary>
    public static bool NeedsLossScaling(ScalarType compute) => compute == ScalarType.Float16;

    private static bool DetectCpuBf16()
    {
        try
        {
            string info = File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "";
            return info.Contains(" avx512_bf16", StringComparison.Ordinal) || info.Contains(" amx_bf16", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
