using EdgeTL.Trainer.Training.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Precision;

public sealed class LossScalerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-scaler-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void An_fp16_overflow_skips_the_step_and_halves_the_scale()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var model = nn.Linear(4, 2);
        using var masters = new MasterWeights(model, ScalarType.Float16);
        var parameters = model.parameters().ToArray();
        var before = parameters.Select(p => masters.MasterOf(p).detach().clone()).ToArray();
        var optimizer = optim.AdamW(parameters.Select(masters.MasterOf), 1e-2);
        var scaler = new DynamicLossScaler();

        // Inputs of 1e3 with a scale of 2^16 push the fp16 weight gradients past 65,504.
        var x = full(8, 4, 1000f).to(ScalarType.Float16);
        var loss = model.forward(x).to(ScalarType.Float32).square().mean();
        scaler.ScaleLoss(loss).backward();
        bool finite = masters.PullGradients(parameters, 1.0 / scaler.Scale, accumulate: false);
        Assert.False(finite);
        Assert.False(scaler.Update(finite));
        Assert.Equal(32768, scaler.Scale);
        Assert.Equal(1, scaler.SkippedSteps);
        // The step was not taken: masters unchanged.
        Assert.All(parameters.Zip(before), pair => Assert.True(TestData.Same(masters.MasterOf(pair.First), pair.Second)));
        optimizer.Dispose();
    }

    [Fact]
    public void Two_thousand_clean_steps_double_the_scale()
    {
        var scaler = new DynamicLossScaler();
        for (int i = 0; i < 1999; i++)
            Assert.True(scaler.Update(true));
        Assert.Equal(65536, scaler.Scale);
        scaler.Update(true);
        Assert.Equal(131072, scaler.Scale);
        Assert.Equal(0, scaler.CleanSteps);
        scaler.Update(false);
        Assert.Equal(65536, scaler.Scale);
    }

    [Fact]
    public void Unscaled_fp16_gradients_equal_fp32_gradients_within_tolerance()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var reference = nn.Sequential(("0", nn.Conv2d(3, 8, 3, padding: 1)), ("1", nn.ReLU()), ("2", nn.Flatten()), ("3", nn.Linear(8 * 8 * 8, 5)));
        var model = nn.Sequential(("0", nn.Conv2d(3, 8, 3, padding: 1)), ("1", nn.ReLU()), ("2", nn.Flatten()), ("3", nn.Linear(8 * 8 * 8, 5)));
        model.load_state_dict(reference.state_dict());
        var x = randn(16, 3, 8, 8);
        var y = randint(0, 5, [16]);
        nn.functional.cross_entropy(reference.forward(x), y).backward();

        using var masters = new MasterWeights(model, ScalarType.Float16);
        var scaler = new DynamicLossScaler();
        var loss = nn.functional.cross_entropy(model.forward(x.to(ScalarType.Float16)).to(ScalarType.Float32), y);
        scaler.ScaleLoss(loss).backward();
        Assert.True(masters.PullGradients(model.parameters().ToArray(), 1.0 / scaler.Scale, accumulate: false));
        foreach (var (p, q) in reference.parameters().Zip(model.parameters()))
        {
            var expected = p.grad!;
            var actual = masters.MasterOf(q).grad!;
            Assert.Equal(ScalarType.Float32, actual.dtype);
            double error = (actual - expected).abs().max().item<float>();
            double scale = expected.abs().max().item<float>();
            Assert.True(error <= 1e-2 * scale, $"max |Δgrad| {error:E2} against max |grad| {scale:E2}");
        }
    }

    [Fact]
    public void Save_and_restore_keep_the_scale()
    {
        var scaler = new DynamicLossScaler();
        scaler.Update(false);
        scaler.Update(false);
        for (int i = 0; i < 17; i++)
            scaler.Update(true);
        string checkpoint = Path.Combine(_dir, "model.bin");
        scaler.Save(checkpoint);
        var restored = new DynamicLossScaler();
        Assert.True(restored.TryRestore(checkpoint));
        Assert.Equal(new LossScalerState(16384, 17, 2), restored.State);
        File.WriteAllText(checkpoint + ".scaler.json", "{not json");
        Assert.Equal(TrainerErrorCode.InvalidCheckpoint, Assert.Throws<EdgeTrainerException>(() => new DynamicLossScaler().TryRestore(checkpoint)).Code);
    }
}
