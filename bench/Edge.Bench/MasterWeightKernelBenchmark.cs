using System.Diagnostics;
using System.Globalization;
using EdgeTL.Trainer.Training.Optim;
using static TorchSharp.torch;

namespace EdgeTL.Bench;

/// <summary>
/// The pass a bf16 training step adds to bring its gradients into the fp32 masters (scaled, with the
/// finite check), by EdgeTL's fused kernel against the libtorch operations it replaces (<c>to</c>, scale,
/// <c>copy_</c>, <c>isfinite().all()</c>), and the pass the other way (masters → bf16 weights), which the
/// trainer leaves to libtorch's <c>copy_</c>. Sized as resnet18's stage4 and the seed head: what a cached
/// stage4 step pulls and pushes.
/// </summary>
internal static class MasterWeightKernelBenchmark
{
    private const long Parameters = 8_661_514;

    public static void Run(int rounds)
    {
        using var scope = NewDisposeScope();
        manual_seed(0);
        var master = randn(Parameters);
        var network = empty(Parameters, ScalarType.BFloat16);
        var gradient = randn(Parameters).to(ScalarType.BFloat16);
        var masterGradient = empty(Parameters);
        int repeats = 5 * Math.Max(1, rounds);
        double push = Milliseconds(repeats, () => network.copy_(master));
        double fusedWiden = Milliseconds(repeats, () => FusedKernels.TryWidenScaled(gradient, masterGradient, 0.5f, accumulate: false));
        double torchWiden = Milliseconds(repeats, () =>
        {
            using var step = NewDisposeScope();
            masterGradient.copy_(gradient.to(ScalarType.Float32) * 0.5);
            _ = masterGradient.isfinite().all().item<bool>();
        });
        Console.WriteLine();
        Console.WriteLine($"bf16 master-weight passes over {Parameters:N0} parameters (resnet18 stage4 + head), ms per pass, medians of {repeats}:");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  bf16 → fp32 gradients: EdgeTL fused {fusedWiden,6:F1}   libtorch to·scale·copy_·isfinite {torchWiden,6:F1}   {torchWiden / fusedWiden:F1}× faster"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  fp32 → bf16 weights:   libtorch copy_ {push,6:F1} (what the trainer runs)"));
    }

    private static double Milliseconds(int repeats, Action pass)
    {
        pass();
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            pass();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return BenchStatistics.Median(times);
    }
}
