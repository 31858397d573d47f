using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace EdgeTL.Runtime.Onnx;

/// <summary>
/// Creates ONNX Runtime sessions down an execution-provider preference list (TensorRT → CUDA
/// → CPU by default). A provider that cannot load (no GPU, no CUDA libraries, no TensorRT) is
/// logged and skipped; the CPU always works. On a GPU provider the fp16 model is chosen when
/// one is given.
/// </summary>
public static partial class OnnxSessionFactory
{
    /// <summary>Opens <paramref name="fp32Model"/> (or <paramref name="fp16Model"/> on a GPU) with the first provider that loads.</summary>
    public static OnnxModel Open(string fp32Model, string? fp16Model, SessionOptionsSpec? spec = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(fp32Model);
        spec ??= new SessionOptionsSpec();
        logger ??= NullLogger.Instance;
        var providers = spec.Providers.Contains(ExecutionProvider.Cpu) ? spec.Providers : [.. spec.Providers, ExecutionProvider.Cpu];
        foreach (var provider in providers)
        {
            var options = BaseOptions(spec);
            try
            {
                if (!TryAppend(options, provider, spec, logger))
                {
                    options.Dispose();
                    continue;
                }
                string path = provider != ExecutionProvider.Cpu && fp16Model is not null ? fp16Model : fp32Model;
                var model = OnnxModel.Load(path, options, provider);
                string precision = path == fp16Model ? "fp16" : "fp32";
                LogChosen(logger, path, provider, precision);
                model.WarmUp(spec.WarmupRuns, spec.WarmupBatch);
                return model;
            }
            catch (EdgeRuntimeException e) when (provider != ExecutionProvider.Cpu && e.Code == RuntimeErrorCode.InvalidModel)
            {
                LogCannotOpen(logger, provider, e.Message);
                options.Dispose();
            }
        }
        throw new InvalidOperationException("The CPU provider is always tried last; this line cannot be reached.");
    }

    private static bool TryAppend(SessionOptions options, ExecutionProvider provider, SessionOptionsSpec spec, ILogger logger)
    {
        if (provider is ExecutionProvider.Cuda or ExecutionProvider.TensorRt && !NvidiaDriverPresent.Value)
        {
            // A machine without the NVIDIA driver is a CPU machine, not a fault: no warning (ONNX
            // Runtime would fail too, after printing an error of its own).
            LogNoDriver(logger, provider);
            return false;
        }
        try
        {
            switch (provider)
            {
                case ExecutionProvider.TensorRt:
                {
                    using var trt = new OrtTensorRTProviderOptions();
                    var settings = new Dictionary<string, string> { ["device_id"] = spec.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture), ["trt_fp16_enable"] = "1" };
                    if (spec.TensorRtEngineCache is string cache)
                    {
                        Directory.CreateDirectory(cache);
                        settings["trt_engine_cache_enable"] = "1";
                        settings["trt_engine_cache_path"] = cache;
                    }
                    trt.UpdateOptions(settings);
                    options.AppendExecutionProvider_Tensorrt(trt);
                    break;
                }
                case ExecutionProvider.Cuda:
                    options.AppendExecutionProvider_CUDA(spec.DeviceId);
                    break;
            }
            return true;
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            LogUnavailable(logger, provider, FirstLine(e.Message));
            return false;
        }
    }

    /// <summary>Whether the NVIDIA driver library loads (checked once per process).</summary>
    private static readonly Lazy<bool> NvidiaDriverPresent = new(() =>
    {
        if (!OperatingSystem.IsLinux())
            return true;   // elsewhere ONNX Runtime's own loading decides
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad("libcuda.so.1", out nint handle))
            return false;
        System.Runtime.InteropServices.NativeLibrary.Free(handle);
        return true;
    });

    private static SessionOptions BaseOptions(SessionOptionsSpec spec) => new()
    {
        IntraOpNumThreads = spec.IntraOpThreads,
        InterOpNumThreads = 1,
        GraphOptimizationLevel = spec.GraphOptimizationLevel switch
        {
            <= 0 => GraphOptimizationLevel.ORT_DISABLE_ALL,
            1 => GraphOptimizationLevel.ORT_ENABLE_BASIC,
            2 => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
        },
    };

    [LoggerMessage(EventId = 6001, EventName = "OnnxProviderChosen", Level = LogLevel.Information, Message = "ONNX Runtime runs {Model} on {Provider} ({Precision}).")]
    private static partial void LogChosen(ILogger logger, string model, ExecutionProvider provider, string precision);

    [LoggerMessage(EventId = 6002, EventName = "OnnxProviderUnavailable", Level = LogLevel.Warning, Message = "{Provider} is not available on this machine ({Reason}); falling back.")]
    private static partial void LogUnavailable(ILogger logger, ExecutionProvider provider, string reason);

    [LoggerMessage(EventId = 6003, EventName = "OnnxProviderCannotOpen", Level = LogLevel.Warning, Message = "{Provider} could not open the model ({Reason}); trying the next provider.")]
    private static partial void LogCannotOpen(ILogger logger, ExecutionProvider provider, string reason);

    [LoggerMessage(EventId = 6004, EventName = "OnnxNoNvidiaDriver", Level = LogLevel.Debug, Message = "{Provider} skipped: no NVIDIA driver (libcuda.so.1) on this machine.")]
    private static partial void LogNoDriver(ILogger logger, ExecutionProvider provider);

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
