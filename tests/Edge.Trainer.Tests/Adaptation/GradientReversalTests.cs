using EdgeTL.Trainer.Adaptation;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Adaptation;

public sealed class GradientReversalTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.37)]
    [InlineData(1.0)]
    [InlineData(2.5)]
    public void Gradient_through_the_layer_is_minus_lambda_times_the_plain_gradient(double lambda)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var x = randn(8, 16);
        var head = nn.Linear(16, 3);

        var plainInput = x.clone().requires_grad_(true);
        head.forward(plainInput).pow(2).sum().backward();

        var reversedInput = x.clone().requires_grad_(true);
        var grl = new GradientReverseLayer(lambda);
        var through = grl.forward(reversedInput);
        Assert.True(TestData.Same(through.detach(), x), "the forward pass is the identity");
        head.forward(through).pow(2).sum().backward();

        var expected = plainInput.grad! * -lambda;
        Assert.True(reversedInput.grad!.allclose(expected, rtol: 0, atol: 0), $"λ = {lambda}: the gradient is not exactly −λ × the plain one");
    }

    [Fact]
    public void Ganins_schedule_rises_from_zero_towards_one()
    {
        Assert.Equal(0.0, GrlSchedule.Ganin(0.0), 12);
        Assert.Equal((2.0 / (1.0 + Math.Exp(-5.0))) - 1.0, GrlSchedule.Ganin(0.5), 12);
        Assert.True(GrlSchedule.Ganin(1.0) > 0.9999);
        Assert.Equal(GrlSchedule.Ganin(1.0), GrlSchedule.Ganin(7.0), 12);
        double previous = -1;
        for (int i = 0; i <= 100; i++)
        {
            double value = GrlSchedule.Ganin(i / 100.0);
            Assert.True(value > previous);
            previous = value;
        }
    }

    [Fact]
    public void The_domain_classifier_has_the_seed_shape_and_rejects_wrong_widths()
    {
        using var scope = NewDisposeScope();
        using var classifier = new DomainClassifier(512);
        var shapes = classifier.parameters().Select(p => string.Join("x", p.shape)).ToArray();
        Assert.Equal(["256x512", "256", "2x256", "2"], shapes);
        Assert.Equal([4L, 2L], classifier.forward(randn(4, 512)).shape);
        var error = Assert.Throws<EdgeTrainerException>(() => classifier.forward(randn(4, 100)));
        Assert.Equal(TrainerErrorCode.InvalidInputShape, error.Code);
    }
}
