using EdgeTL.Runtime.Onnx;
using EdgeTL.Trainer.Tests;

namespace EdgeTL.Cloud.Tests;

/// <summary>
/// <c>export-onnx</c> of a model fine-tuned in PyTorch: a torchvision state dict with a 10-class classifier
/// exports with that classifier, and ONNX Runtime's logits are PyTorch's (issue 18, defect 1: it shipped a
/// random seed head and said nothing). A seed head is added only on request, and then it says so.
/// </summary>
public sealed class ExportOnnxClassifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-cloud-export-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v2")]
    public async Task A_torchvision_classifier_is_kept_and_the_logits_are_pytorchs(string arch)
    {
        string name = arch + "_10classes", onnx = Path.Combine(_dir, arch + ".onnx");
        var run = await Cli.ExpectAsync(0, "export-onnx", "--arch", arch, "--weights", PeerFixtures.File(name + ".pt"), "--out", onnx, "--threads", "2");
        Assert.Contains("torchvision's classifier kept (10 classes)", run.Output + run.Error, StringComparison.Ordinal);

        var (input, logits) = PeerFixtures.InputAndLogits(name);
        using var session = OnnxModel.Load(onnx);
        var (values, shape) = session.Run(input.data<float>().ToArray(), [.. input.shape.Select(d => (int)d)]);
        Assert.Equal([2, 10], shape);
        float[] expected = logits.data<float>().ToArray();
        double scale = expected.Max(MathF.Abs), worst = values.Zip(expected).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(worst <= 1e-4 * scale, $"{arch}: max |Δ| {worst:E2} against PyTorch's logits (scale {scale:F3})");
    }

    [Fact]
    public async Task A_seed_head_comes_only_on_request_and_is_said_to_be_untrained()
    {
        string weights = PeerFixtures.File("resnet18_10classes.pt");
        var refused = await Cli.ExpectAsync(2, "export-onnx", "--arch", "resnet18", "--weights", weights, "--classes", "5", "--out", Path.Combine(_dir, "x.onnx"));
        Assert.Contains("10 classes", refused.Error, StringComparison.Ordinal);

        var seeded = await Cli.ExpectAsync(0, "export-onnx", "--arch", "resnet18", "--weights", weights, "--seed-head", "--classes", "5",
            "--out", Path.Combine(_dir, "seeded.onnx"), "--threads", "2");
        Assert.Contains("randomly initialized", seeded.Output + seeded.Error, StringComparison.Ordinal);

        // A pretrain-style checkpoint without a head for these classes: refused unless --seed-head.
        var backboneOnly = await Cli.ExpectAsync(2, "export-onnx", "--arch", "resnet18", "--weights", PeerFixtures.File("resnet18_7classes.pt"),
            "--classes", "3", "--out", Path.Combine(_dir, "y.onnx"));
        Assert.Contains("--seed-head", backboneOnly.Error, StringComparison.Ordinal);
    }
}
