using EdgeTL.Runtime.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Interop;

/// <summary>Helpers shared by the ONNX tests.</summary>
internal static class OnnxTestModels
{
    /// <summary>Random BatchNorm affine parameters and running statistics, so exporting them wrongly shows.</summary>
    public static void PerturbBatchNorm(nn.Module model, int seed)
    {
        var g = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var bn in model.modules().OfType<BatchNorm2d>())
        {
            long n = bn.num_features;
            bn.weight!.copy_(1 + 0.1 * randn(n, generator: g));
            bn.bias!.copy_(0.1 * randn(n, generator: g));
            bn.running_mean!.copy_(0.1 * randn(n, generator: g));
            bn.running_var!.copy_(0.75 + 0.5 * rand(n, generator: g));
        }
    }

    /// <summary>Runs an ONNX model through ONNX Runtime on a TorchSharp tensor.</summary>
    public static Tensor Run(OnnxModel onnx, Tensor input)
    {
        float[] values = input.contiguous().data<float>().ToArray();
        var (output, shape) = onnx.Run(values, [.. input.shape.Select(d => (int)d)]);
        return tensor(output).reshape([.. shape.Select(d => (long)d)]);
    }

    /// <summary>max |a − b|.</summary>
    public static double MaxDiff(Tensor a, Tensor b)
    {
        Assert.Equal(a.shape, b.shape);
        return (a - b).abs().max().item<float>();
    }
}
