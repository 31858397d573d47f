using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using EdgeTL.Trainer.Training.Optim;
using EdgeTL.Trainer.Training.Precision;
using TorchSharp;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Optim;

public sealed class FusedKernelTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("contiguous")]
    [InlineData("channels-last")]
    [InlineData("strided")]
    public void Fused_AdamW_follows_PyTorchs_AdamW(string layout)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        // 70,000 elements: large enough to be split across threads, with a tail that is not a whole vector.
        var initial = randn(70, 10, 10, 10);
        var ours = new Parameter(Layout(initial.clone(), layout));
        var reference = new Parameter(initial.clone());
        using var fused = new FusedAdamW(weightDecay: 0.05);
        fused.AddGroup([ours], 3e-3);
        using var torchAdamW = optim.AdamW([reference], 3e-3, weight_decay: 0.05);
        for (int step = 0; step < 6; step++)
        {
            var g = randn(70, 10, 10, 10) * (step + 1);
            ours.grad = Layout(g.clone(), layout);
            reference.grad = g.clone();
            fused.Step();
            torchAdamW.step();
        }
        var difference = (ours.detach() - reference.detach()).abs().max().item<float>();
        Assert.True(difference < 1e-5f, $"{layout}: fused AdamW differs from TorchSharp's by {difference}");
        Assert.True((ours.detach() - initial).abs().max().item<float>() > 1e-3f, "the parameter moved");
    }

    [Fact]
    public void Parameters_without_a_gradient_are_left_alone()
    {
        using var scope = NewDisposeScope();
        var p = new Parameter(ones(10));
        using var fused = new FusedAdamW();
        fused.AddGroup([p], 0.1);
        fused.Step();
        Assert.True(TestData.Same(p.detach(), ones(10)));
    }

    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.Float32)]
    public void Widening_scales_accumulates_and_finds_non_finite_values(ScalarType type)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        // 200,003 elements: split across threads (chunks of at least 65,536), each chunk ending in a scalar tail.
        const int n = 200_003;
        var source = randn(n).to(type);
        var destination = ones(n);
        Assert.True(FusedKernels.TryWidenScaled(source, destination, 0.25f, accumulate: true));
        Assert.True(destination.allclose(source.to(ScalarType.Float32) * 0.25 + 1, rtol: 0, atol: 1e-6));

        // Every position a non-finite value can sit in: each lane of a vector pair (bf16 widens one vector into two), the second
        // chunk, and the scalar tail.
        int lanes = 2 * System.Numerics.Vector<float>.Count;
        int[] positions = [.. Enumerable.Range(0, lanes).Select(l => 64 * lanes + l), n / 2 + 5, n - 1];
        foreach (int at in positions)
        {
            foreach (float bad in new[] { float.PositiveInfinity, float.NaN })
            {
                var poisoned = source.clone();
                poisoned[at] = tensor(bad).to(type);
                Assert.False(FusedKernels.TryWidenScaled(poisoned, destination, 1f, accumulate: false), $"{bad} at {at} was not found");
            }
        }
        Assert.True(FusedKernels.TryWidenScaled(source, destination, 1f, accumulate: false));
        Assert.Null(FusedKernels.TryWidenScaled(source, zeros(5), 1f, accumulate: false));
    }

    [Fact]
    public void Only_dense_tensors_of_one_layout_share_a_kernel()
    {
        using var scope = NewDisposeScope();
        var a = zeros(4, 6, 3, 3);
        Assert.True(HostTensor.SameDenseLayout(a, zeros(4, 6, 3, 3)));
        Assert.True(HostTensor.SameDenseLayout(Layout(a, "channels-last"), Layout(zeros(4, 6, 3, 3), "channels-last")));
        Assert.False(HostTensor.SameDenseLayout(a, Layout(zeros(4, 6, 3, 3), "channels-last")));
        Assert.False(HostTensor.SameDenseLayout(zeros(4, 12, 3, 3).narrow(1, 0, 6), a.clone()));
    }

    [Fact]
    public void Channels_last_training_matches_channels_first_and_leaves_contiguous_weights()
    {
        double Run(MemoryFormat format, out TransferModel model)
        {
            model = TransferModel.Create("resnet18", 4, seed: 7);
            manual_seed(8);
            var x = randn(6, 3, 32, 32);
            var y = tensor(new long[] { 0, 1, 2, 3, 0, 1 });
            // SGD: its update is proportional to the gradient, so summation-order differences between the layouts stay tiny.
            var loop = new TrainingLoop(new TrainerOptions { Epochs = 2, Optimizer = OptimizerKind.Sgd, MemoryFormat = format, RestoreBest = false, Schedule = LrScheduleKind.Constant });
            var result = loop.Fit(model, new FixedBatches(x, y));
            return result.Epochs[^1].TrainLoss;
        }

        double first = Run(MemoryFormat.ChannelsFirst, out var a);
        double last = Run(MemoryFormat.ChannelsLast, out var b);
        output.WriteLine($"{ChannelsLastCheck.Verdict}; channels-first loss {first}, channels-last {last}");
        Assert.True(Math.Abs(first - last) < 1e-3, $"channels-first loss {first}, channels-last {last}");
        Assert.All(b.parameters(), p => Assert.True(p.is_contiguous()));
        var pa = a.parameters().ToArray();
        var pb = b.parameters().ToArray();
        for (int i = 0; i < pa.Length; i++)
            Assert.True(pa[i].allclose(pb[i], rtol: 1e-3, atol: 1e-4), $"parameter {i} differs between layouts");
        a.Dispose();
        b.Dispose();
    }

    [Theory]
    [InlineData("resnet18", 32)]
    [InlineData("resnet18", 64)]
    [InlineData("mobilenet_v2", 32)]
    public void The_layout_a_run_uses_computes_what_channels_first_computes(string architecture, int side)
    {
        // The end-to-end property the check protects: whatever layout a run gets (channels-last
        // where this libtorch computes it correctly, else channels-first), a backbone gives the
        // same outputs. On a libtorch with a faulty channels-last kernel, ResNet-18's downsample
        // path alone moved logits by 0.1-0.5 (README figures in docs/architecture.md).
        var verdict = ChannelsLastCheck.Verdict;
        output.WriteLine($"channels-last check: {(verdict.IsCorrect ? "used" : "not used")}, worst relative deviation {verdict.WorstDeviation:E2} ({verdict.WorstCase})");
        using var model = TransferModel.Create(architecture, 4, seed: 3);
        model.Network.eval();
        manual_seed(4);
        var x = randn(3, 3, side, side);
        using var noGrad = no_grad();
        var expected = model.Network.forward(x);
        Tensor actual;
        using (var layout = ChannelsLastScope.Enter(model.Network, MemoryFormat.Auto))
        {
            Assert.Equal(verdict.IsCorrect, layout is not null);
            actual = model.Network.forward(verdict.IsCorrect ? ChannelsLastCheck.ToChannelsLast(x) : x);
        }
        double deviation = (actual - expected).abs().max().item<float>() / expected.abs().max().item<float>();
        output.WriteLine($"{architecture} at {side}×{side}: relative deviation {deviation:E2}");
        Assert.True(deviation < 1e-3, $"{architecture} at {side}: {deviation:E2}");
    }

    [Fact]
    public void The_channels_last_check_is_quick_and_names_its_worst_case()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var verdict = ChannelsLastCheck.Run();
        output.WriteLine($"{verdict} in {clock.ElapsedMilliseconds} ms");
        Assert.Equal(verdict.WorstDeviation <= ChannelsLastCheck.Tolerance, verdict.IsCorrect);
        Assert.False(string.IsNullOrEmpty(verdict.WorstCase));
        Assert.Equal(verdict, ChannelsLastCheck.Run());   // deterministic: the same inputs every time
    }

    [Fact]
    public void Mixed_precision_with_channels_last_keeps_the_fused_path_and_fp32_masters()
    {
        using var model = TransferModel.Create("mobilenet_v2", 3, seed: 2);
        manual_seed(9);
        var loop = new TrainingLoop(new TrainerOptions { Epochs = 1, Precision = PrecisionMode.Bf16, MemoryFormat = MemoryFormat.ChannelsLast, RestoreBest = false });
        var result = loop.Fit(model, new FixedBatches(randn(4, 3, 32, 32), tensor(new long[] { 0, 1, 2, 0 })));
        Assert.Equal("BFloat16", result.ComputeType);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.All(model.parameters(), p => Assert.True(p.is_contiguous()));
        Assert.True(double.IsFinite(result.Epochs[0].TrainLoss));
    }

    private static Tensor Layout(Tensor t, string layout) => layout switch
    {
        "channels-last" => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2),
        "strided" => zeros(t.shape[0], t.shape[1], t.shape[2], 2 * t.shape[3]).narrow(3, 0, t.shape[3]).copy_(t),   // gaps: not dense
        _ => t,
    };

    /// <summary>One fixed batch per epoch.</summary>
    private sealed class FixedBatches(Tensor images, Tensor labels) : EdgeTL.Trainer.Data.ITensorBatches
    {
        public int SampleCount => (int)images.shape[0];

        public IEnumerable<(Tensor Inputs, Tensor Labels)> Epoch(int epoch)
        {
            yield return (images.alias(), labels.alias());
        }
    }
}
