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

    /// <summary>
    /// The bridge from a team's PyTorch cluster (DDP with <c>torchrun</c>): the state dict it saves, with its
    /// classifier, becomes a signed package; installed as a device installs it, its backbone and head in ONNX
    /// Runtime give PyTorch's logits.
    /// </summary>
    [Fact]
    public async Task A_pytorch_trained_state_dict_with_its_classifier_becomes_a_package_whose_logits_are_pytorchs()
    {
        string keys = Path.Combine(_dir, "keys"), package = Path.Combine(_dir, "from-pytorch.tar");
        await Cli.ExpectAsync(0, "keys", "new", "--out", keys, "--name", "release");
        string[] classes = [.. Enumerable.Range(0, 10).Select(i => $"class-{i}")];
        var run = await Cli.ExpectAsync(0, "package", "--arch", "resnet18", "--weights", PeerFixtures.File("resnet18_10classes.pt"), "--classes", string.Join(',', classes),
            "--size", "64", "--key", Path.Combine(keys, "release.key.pem"), "--counter", "1", "--version", "1.0.0", "--out", package, "--threads", "2");
        Assert.Contains("torchvision's classifier kept (10 classes)", run.Output + run.Error, StringComparison.Ordinal);

        using var trusted = EdgeTL.Runtime.Packaging.TrustedKeys.FromDirectory(keys);
        var installed = new EdgeTL.Runtime.Packaging.ModelStore(Path.Combine(_dir, "device"), trusted).Install(package);
        Assert.Equal(classes, installed.Manifest.Labels);
        using var served = EdgeTL.Runtime.Features.ServedModel.Open(installed);
        var (input, logits) = PeerFixtures.InputAndLogits("resnet18_10classes");
        var (features, featureShape) = served.Backbone.Run(input.data<float>().ToArray(), [.. input.shape.Select(d => (int)d)]);
        var (values, shape) = served.Head!.Run(features, featureShape);
        Assert.Equal([2, 10], shape);
        float[] expected = logits.data<float>().ToArray();
        double scale = expected.Max(MathF.Abs), worst = values.Zip(expected).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(worst <= 1e-4 * scale, $"package: max |Δ| {worst:E2} against PyTorch's logits (scale {scale:F3})");
    }
}
