using EdgeTL.Runtime.Onnx;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Runtime.Tests.Onnx;

public sealed class SessionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-session-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// Issue 16, defect 7: a CPU machine logged TensorRT/CUDA warnings at every model load. A machine
    /// without the NVIDIA driver is a CPU machine, not a fault: the skip is a debug line, and only the
    /// provider chosen is reported.
    /// </summary>
    [Fact]
    public void Four_TensorRT_and_CUDA_warning_lines_per_model_load_on_a_CPU_machine()
    {
        string path = Path.Combine(_dir, "tiny.onnx");
        File.WriteAllBytes(path, TinyModels.Backbone());
        var log = new ListLogger();
        using var model = OnnxSessionFactory.Open(path, fp16Model: null, new SessionOptionsSpec
        {
            Providers = [ExecutionProvider.TensorRt, ExecutionProvider.Cuda, ExecutionProvider.Cpu],
            TensorRtEngineCache = Path.Combine(_dir, "trt-cache"),
            WarmupRuns = 2,
        }, log);
        Assert.Equal(ExecutionProvider.Cpu, model.Provider);
        Assert.DoesNotContain(log.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) || l.StartsWith("Error", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.StartsWith("Debug: TensorRt skipped: no NVIDIA driver", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.StartsWith("Debug: Cuda skipped: no NVIDIA driver", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.StartsWith("Information: ONNX Runtime runs", StringComparison.Ordinal) && l.Contains("on Cpu (fp32)", StringComparison.Ordinal));
        // Dynamic batch: 1 and 5 images.
        Assert.Equal([1, 32], model.Run(new float[3 * 16 * 16], [1, 3, 16, 16]).Shape);
        Assert.Equal([5, 32], model.Run(new float[5 * 3 * 16 * 16], [5, 3, 16, 16]).Shape);
    }

    [Fact]
    public void Only_CUDA_requested_still_ends_on_the_CPU()
    {
        string path = Path.Combine(_dir, "tiny.onnx");
        File.WriteAllBytes(path, TinyModels.Backbone());
        using var model = OnnxSessionFactory.Open(path, null, new SessionOptionsSpec { Providers = [ExecutionProvider.Cuda] }, new ListLogger());
        Assert.Equal(ExecutionProvider.Cpu, model.Provider);
    }

    [Fact]
    public void A_corrupt_model_and_a_wrong_shape_give_typed_errors()
    {
        string path = Path.Combine(_dir, "bad.onnx");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        var error = Assert.Throws<EdgeRuntimeException>(() => OnnxSessionFactory.Open(path, null));
        Assert.Equal(RuntimeErrorCode.InvalidModel, error.Code);
        using var model = OnnxModel.Load(TinyModels.Head(4, 3));
        Assert.Equal(RuntimeErrorCode.InvalidInputShape, Assert.Throws<EdgeRuntimeException>(() => model.Run(new float[10], [2, 5])).Code);
    }

    [Fact]
    public void Blocking_threads_compute_what_spinning_threads_compute()
    {
        var input = Enumerable.Range(0, 8 * 4).Select(i => MathF.Sin(i)).ToArray();
        using var spinning = OnnxModel.Load(TinyModels.Head(4, 3), new OnnxModelOptions { IntraOpThreads = 2 });
        using var blocking = OnnxModel.Load(TinyModels.Head(4, 3), new OnnxModelOptions { IntraOpThreads = 2, AllowSpinning = false });
        var (expected, shape) = spinning.Run(input, [8, 4]);
        var (actual, blockingShape) = blocking.Run(input, [8, 4]);
        Assert.Equal(shape, blockingShape);
        Assert.Equal(expected, actual);
    }

    /// <summary>Collects "Level: message" lines.</summary>
    private sealed class ListLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add($"{logLevel}: {formatter(state, exception)}");
    }
}
