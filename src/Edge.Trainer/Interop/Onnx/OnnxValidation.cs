using EdgeTL.Runtime.Onnx;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Interop.Onnx;

/// <summary>Checks an ONNX file against the module it came from by running both.</summary>
public static class OnnxValidation
{
    /// <summary>
    /// Loads <paramref name="onnx"/> in ONNX Runtime (a file it cannot load is an error), runs
    /// it and <paramref name="module"/> (in eval mode) on <paramref name="input"/>, and returns
    /// max |Δ| and the largest |output| (the scale the difference should be read against).
    /// </summary>
    public static (double MaxAbsDifference, double OutputScale) Compare(nn.Module<Tensor, Tensor> module, byte[] onnx, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(onnx);
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        using var session = OnnxModel.Load(onnx);
        using var contiguous = input.contiguous();
        var (values, shape) = session.Run(contiguous.data<float>().ToArray(), [.. input.shape.Select(d => (int)d)]);
        var actual = tensor(values).reshape([.. shape.Select(d => (long)d)]);
        bool wasTraining = module.training;
        module.eval();
        try
        {
            using var noGrad = no_grad();
            var expected = module.forward(input);
            if (expected.numel() != actual.numel())
                throw new EdgeTrainerException(TrainerErrorCode.UnsupportedExport,
                    $"ONNX Runtime returned [{string.Join(", ", shape)}] where the module returns [{string.Join(", ", expected.shape)}].");
            return ((actual.flatten() - expected.flatten()).abs().max().item<float>(), expected.abs().max().item<float>());
        }
        finally
        {
            module.train(wasTraining);
        }
    }
}
