using Microsoft.ML.OnnxRuntime;

namespace EdgeTL.Runtime.Onnx;

/// <summary>
/// One ONNX model in an ONNX Runtime session with a single float input and a single float
/// output: the plain-array way to run a backbone or a head, and to check an exported file.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    private OnnxModel(InferenceSession session, string source, ExecutionProvider provider)
    {
        _session = session;
        Provider = provider;
        if (session.InputMetadata.Count != 1 || session.OutputMetadata.Count < 1)
        {
            session.Dispose();
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidModel,
                $"{source}: expected one input and at least one output, found {session.InputMetadata.Count} and {session.OutputMetadata.Count}.");
        }
        var input = session.InputMetadata.Single();
        InputName = input.Key;
        InputShape = [.. input.Value.Dimensions];
        OutputName = session.OutputMetadata.Keys.First();
        OutputShape = [.. session.OutputMetadata[OutputName].Dimensions];
    }

    /// <summary>Where the session runs.</summary>
    public ExecutionProvider Provider { get; }

    /// <summary>Name of the model's input.</summary>
    public string InputName { get; }

    /// <summary>Declared input shape; −1 marks a dynamic axis (e.g. the batch).</summary>
    public IReadOnlyList<int> InputShape { get; }

    /// <summary>Name of the output that <c>Run</c> returns (the first one).</summary>
    public string OutputName { get; }

    /// <summary>Declared output shape; −1 marks a dynamic axis.</summary>
    public IReadOnlyList<int> OutputShape { get; }

    /// <summary>Loads an ONNX file. A missing, corrupt or unsupported file gives a typed error.</summary>
    public static OnnxModel Load(string path, OnnxModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new EdgeRuntimeException(RuntimeErrorCode.DataNotFound, $"ONNX model '{path}' does not exist.");
        return Create(path, options, o => new InferenceSession(path, o));
    }

    /// <summary>Loads an ONNX model held in memory.</summary>
    public static OnnxModel Load(byte[] model, OnnxModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Create("in-memory model", options, o => new InferenceSession(model, o));
    }

    /// <summary>Opens <paramref name="path"/> with prepared session options (which this call disposes).</summary>
    internal static OnnxModel Load(string path, SessionOptions options, ExecutionProvider provider)
    {
        using (options)
        {
            if (!File.Exists(path))
                throw new EdgeRuntimeException(RuntimeErrorCode.DataNotFound, $"ONNX model '{path}' does not exist.");
            try
            {
                return new OnnxModel(new InferenceSession(path, options), path, provider);
            }
            catch (OnnxRuntimeException e)
            {
                throw new EdgeRuntimeException(RuntimeErrorCode.InvalidModel, $"{path} is not a model ONNX Runtime can load: {e.Message}", e);
            }
        }
    }

    /// <summary>Runs <paramref name="runs"/> batches of zeros so that lazy initialization happens now.</summary>
    public void WarmUp(int runs, int batch = 1)
    {
        if (runs <= 0 || InputShape.Skip(1).Any(d => d < 1))
            return;
        int[] shape = [InputShape[0] > 0 ? InputShape[0] : Math.Max(1, batch), .. InputShape.Skip(1)];
        var zeros = new float[shape.Aggregate(1, (a, d) => a * d)];
        for (int i = 0; i < runs; i++)
            Run(zeros, shape);
    }

    /// <summary>Runs the model on one float tensor given as values plus shape; returns the first output.</summary>
    public (float[] Values, int[] Shape) Run(float[] values, IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Run(values.AsMemory(), shape);
    }

    /// <summary>Runs the model on the first Π(shape) values of <paramref name="values"/> (a reusable buffer may be larger).</summary>
    public (float[] Values, int[] Shape) Run(Memory<float> values, IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = shape.Aggregate(1L, (a, d) => a * d);
        if (count > values.Length)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidInputShape, $"Input shape [{string.Join(", ", shape)}] needs {count} values, {values.Length} given.");
        values = values[..(int)count];
        CheckShape(values.Length, shape);
        long[] dims = [.. shape.Select(d => (long)d)];
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, values, dims);
        try
        {
            using var outputs = _session.Run(_runOptions, [InputName], [input], [OutputName]);
            var output = outputs[0];
            int[] outShape = [.. output.GetTensorTypeAndShape().Shape.Select(d => (int)d)];
            return (output.GetTensorDataAsSpan<float>().ToArray(), outShape);
        }
        catch (OnnxRuntimeException e)
        {
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidInputShape,
                $"ONNX Runtime rejected input [{string.Join(", ", shape)}] for '{InputName}': {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    private void CheckShape(int valueCount, IReadOnlyList<int> shape)
    {
        long count = shape.Aggregate(1L, (a, d) => a * d);
        if (shape.Any(d => d < 1) || count != valueCount)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidInputShape,
                $"Input shape [{string.Join(", ", shape)}] does not describe {valueCount} values.");
        if (shape.Count != InputShape.Count
            || shape.Where((d, i) => InputShape[i] > 0 && InputShape[i] != d).Any())
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidInputShape,
                $"Input shape [{string.Join(", ", shape)}] does not fit the model's '{InputName}' [{string.Join(", ", InputShape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}].");
    }

    private static OnnxModel Create(string source, OnnxModelOptions? options, Func<SessionOptions, InferenceSession> open)
    {
        InferenceSession session;
        using var sessionOptions = SessionOptionsFor(options);
        try
        {
            session = open(sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidModel, $"{source} is not a model ONNX Runtime can load: {e.Message}", e);
        }
        return new OnnxModel(session, source, ExecutionProvider.Cpu);
    }

    private static SessionOptions SessionOptionsFor(OnnxModelOptions? options)
    {
        options ??= new OnnxModelOptions();
        var session = new SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = options.OptimizeGraph ? GraphOptimizationLevel.ORT_ENABLE_ALL : GraphOptimizationLevel.ORT_DISABLE_ALL,
        };
        if (!options.AllowSpinning)
            session.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return session;
    }
}
