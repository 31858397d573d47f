using static TorchSharp.torch;

namespace EdgeTL.Trainer.Training;

/// <summary>
/// Whether this process's libtorch computes convolutions correctly on channels-last tensors.
/// Checked once per process, in a few milliseconds: each convolution shape of the zoo's
/// backbones (1×1, 3×3 and 7×7 kernels, strides 1 and 2, depthwise, spatial sizes down to 2×2)
/// runs forward and backward in both layouts and must agree. Some CPU builds do not: on an AMD
/// EPYC with AVX-512 the 1×1 stride-2 convolution of ResNet's downsample path returned values
/// off by up to 28 on channels-last input. Training then stays channels-first.
/// </summary>
public static class ChannelsLastCheck
{
    /// <summary>Largest deviation between the layouts, relative to the largest value of a result, that still counts as agreement.</summary>
    public const double Tolerance = 1e-3;

    private static readonly Lazy<ChannelsLastVerdict> Result = new(Run);

    /// <summary>The verdict for this process (computed on first use).</summary>
    public static ChannelsLastVerdict Verdict => Result.Value;

    // (input channels, output channels, kernel, stride, groups, spatial side)
    private static readonly (int In, int Out, int Kernel, int Stride, int Groups, int Side)[] Cases =
    [
        (64, 128, 1, 2, 1, 8),   // ResNet's downsample convolutions, at small inputs' sizes
        (128, 256, 1, 2, 1, 4),
        (256, 512, 1, 2, 1, 2),
        (256, 512, 1, 2, 1, 14),
        (64, 256, 1, 1, 1, 4),   // bottleneck 1×1
        (64, 64, 3, 1, 1, 4),
        (128, 128, 3, 2, 1, 8),
        (3, 64, 7, 2, 1, 16),    // the ResNet stem
        (96, 96, 3, 2, 96, 7),   // MobileNet depthwise
        (96, 96, 5, 1, 96, 6),
        (16, 32, 1, 2, 1, 3),
    ];

    /// <summary>Runs every case now (the cached <see cref="Verdict"/> runs them once).</summary>
    public static ChannelsLastVerdict Run()
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(20261206);
        double worst = 0;
        string worstCase = "";
        foreach (var c in Cases)
        {
            var input = randn([2, c.In, c.Side, c.Side], generator: generator);
            var weight = randn([c.Out, c.In / c.Groups, c.Kernel, c.Kernel], generator: generator);
            var upstream = randn(OutputShape(c), generator: generator);
            var (outFirst, gradInFirst, gradWFirst) = ForwardBackward(input, weight, upstream, c.Stride, c.Kernel / 2, c.Groups);
            var (outLast, gradInLast, gradWLast) = ForwardBackward(ToChannelsLast(input), ToChannelsLast(weight), upstream, c.Stride, c.Kernel / 2, c.Groups);
            foreach (var (name, a, b) in new[] { ("output", outFirst, outLast), ("input gradient", gradInFirst, gradInLast), ("weight gradient", gradWFirst, gradWLast) })
            {
                double scale = Math.Max(a.abs().max().item<float>(), 1e-6);
                double deviation = (a - b).abs().max().item<float>() / scale;
                if (!(deviation <= worst))
                {
                    worst = double.IsNaN(deviation) ? double.PositiveInfinity : deviation;
                    worstCase = $"{c.Kernel}×{c.Kernel} stride {c.Stride}{(c.Groups > 1 ? " depthwise" : "")} at {c.Side}×{c.Side}, {name}";
                }
            }
        }
        return new ChannelsLastVerdict(worst <= Tolerance, worst, worstCase);
    }

    private static long[] OutputShape((int In, int Out, int Kernel, int Stride, int Groups, int Side) c)
    {
        int side = (c.Side + 2 * (c.Kernel / 2) - c.Kernel) / c.Stride + 1;
        return [2, c.Out, side, side];
    }

    private static (Tensor Output, Tensor InputGradient, Tensor WeightGradient) ForwardBackward(Tensor input, Tensor weight, Tensor upstream, int stride, int padding, int groups)
    {
        var x = input.detach().requires_grad_(true);
        var w = weight.detach().requires_grad_(true);
        var output = nn.functional.conv2d(x, w, strides: [stride, stride], padding: [padding, padding], groups: groups);
        (output * upstream).sum().backward();
        return (output.detach().contiguous(), x.grad!.contiguous(), w.grad!.contiguous());
    }

    internal static Tensor ToChannelsLast(Tensor t) => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}

/// <summary>The outcome of <see cref="ChannelsLastCheck"/>.</summary>
/// <param name="IsCorrect">Both layouts agree within <see cref="ChannelsLastCheck.Tolerance"/> on every case.</param>
/// <param name="WorstDeviation">The largest relative deviation seen.</param>
/// <param name="WorstCase">Which convolution and result showed it.</param>
public sealed record ChannelsLastVerdict(bool IsCorrect, double WorstDeviation, string WorstCase);
