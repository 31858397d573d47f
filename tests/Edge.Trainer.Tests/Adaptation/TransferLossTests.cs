using EdgeTL.Trainer.Adaptation;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Adaptation;

public sealed class TransferLossTests
{
    [Fact]
    public void Mmd_loss_is_small_for_one_distribution_larger_for_shifted_ones_and_differentiable()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        using var mmd = new MultiKernelMmdLoss();
        var source = randn(64, 8);
        double same = mmd.forward(source, randn(64, 8)).item<float>();
        double shifted = mmd.forward(source, randn(64, 8) + 1.5).item<float>();
        Assert.True(shifted > 5 * Math.Max(same, 1e-4), $"same {same}, shifted {shifted}");

        // Moving the target towards the source lowers the loss: the gradient points the right way.
        var target = (randn(64, 8) + 1.5).requires_grad_(true);
        var loss = mmd.forward(source, target);
        loss.backward();
        var moved = (target.detach() - (target.grad! * 5.0));
        Assert.True(mmd.forward(source, moved).item<float>() < loss.item<float>());
    }

    [Fact]
    public void Dynamic_weight_follows_the_seeds_formula()
    {
        using var scope = NewDisposeScope();
        var source = zeros(4, 3);
        var target = full(4, 3, 2.0f);   // ‖μ_s − μ_t‖ = 2·√3
        double expected = 1 / (1 + Math.Exp(-0.1 * 2 * Math.Sqrt(3)));
        Assert.Equal(expected, DynamicTransferWeight.Compute(source, target), 6);
        Assert.Equal(0.5, DynamicTransferWeight.Compute(source, zeros(7, 3)), 6);
        Assert.Throws<EdgeTrainerException>(() => DynamicTransferWeight.Compute(source, zeros(4, 5)));
    }
}
