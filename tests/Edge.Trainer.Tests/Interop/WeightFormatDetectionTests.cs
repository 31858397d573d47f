using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Interop;

/// <summary>
/// <see cref="WeightFiles"/> is the one detector: PyTorch zip, safetensors and TorchSharp
/// checkpoints are told apart by content. Policy: the extension is never consulted, so a file
/// with a misleading name is recognised as what it is; anything else, and any corrupt or
/// truncated file, is <see cref="TrainerErrorCode.InvalidWeightsFile"/> naming the path.
/// </summary>
public sealed class WeightFormatDetectionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-weight-format-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Each_format_is_recognised_by_content_under_a_misleading_name()
    {
        using var scope = NewDisposeScope();
        var source = SmallModule(seed: 1);

        string safetensorsAsPt = Path.Combine(_dir, "safetensors-content.pt");
        SafeTensors.Save(source.state_dict(), safetensorsAsPt);
        string torchSharpAsSafetensors = Path.Combine(_dir, "torchsharp-content.safetensors");
        Checkpoint.Save(source, torchSharpAsSafetensors);
        string pytorchAsSafetensors = Path.Combine(_dir, "pytorch-content.safetensors");
        File.Copy(PeerFixtures.File("resnet18.pt"), pytorchAsSafetensors);

        Assert.Equal(WeightFormat.SafeTensors, WeightFiles.Detect(safetensorsAsPt));
        Assert.Equal(WeightFormat.TorchSharp, WeightFiles.Detect(torchSharpAsSafetensors));
        Assert.Equal(WeightFormat.PyTorch, WeightFiles.Detect(pytorchAsSafetensors));

        foreach (var (path, format) in new[] { (safetensorsAsPt, WeightFormat.SafeTensors), (torchSharpAsSafetensors, WeightFormat.TorchSharp) })
        {
            var target = SmallModule(seed: 2);
            var report = WeightFiles.Load(target, path);
            Assert.Equal(format, report.Format);
            Assert.Equal(source.state_dict().Count, report.Loaded.Count);
            foreach (var (name, t) in source.state_dict())
                Assert.True(TestData.Same(t, target.state_dict()[name]), $"{format}: {name}");
        }
        var reference = BackboneZoo.CreateReference("resnet18", seed: 2);
        var pytorch = WeightFiles.Load(reference, pytorchAsSafetensors);
        Assert.Equal(WeightFormat.PyTorch, pytorch.Format);
        Assert.Equal(reference.state_dict().Count, pytorch.Loaded.Count);
    }

    [Fact]
    public void A_TorchSharp_checkpoint_loads_exactly_and_a_head_of_another_class_count_is_skipped_on_request()
    {
        using var scope = NewDisposeScope();
        var source = TransferModel.Create("mobilenet_v3_small", 5, seed: 1);
        string path = Path.Combine(_dir, "pretrain.bin");
        Checkpoint.Save(source, path);

        var same = TransferModel.Create("mobilenet_v3_small", 5, seed: 2);
        var report = WeightFiles.Load(same, path);
        Assert.Equal(WeightFormat.TorchSharp, report.Format);
        Assert.Empty(report.Skipped);
        foreach (var (name, t) in source.state_dict())
            Assert.True(TestData.Same(t, same.state_dict()[name]), name);

        // What TorchSharp's own loader reads from the same file.
        var byTorchSharp = TransferModel.Create("mobilenet_v3_small", 5, seed: 3);
        Checkpoint.Load(byTorchSharp, path);
        foreach (var (name, t) in byTorchSharp.state_dict())
            Assert.True(TestData.Same(t, same.state_dict()[name]), name);

        var other = TransferModel.Create("mobilenet_v3_small", 7, seed: 2);
        var mismatch = Assert.Throws<EdgeTrainerException>(() => WeightFiles.Load(other, path));
        Assert.Equal(TrainerErrorCode.WeightsMismatch, mismatch.Code);
        var freshHead = other.state_dict().Where(kv => kv.Key.StartsWith("head.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var skipped = WeightFiles.Load(other, path, new WeightLoadOptions { SkipHead = true });
        Assert.NotEmpty(skipped.Skipped);
        Assert.All(skipped.Skipped, k => Assert.StartsWith("head.", k, StringComparison.Ordinal));
        Assert.DoesNotContain(skipped.Loaded, k => k.StartsWith("head.", StringComparison.Ordinal));
        foreach (var (name, t) in other.state_dict())
            Assert.True(TestData.Same(freshHead.TryGetValue(name, out var fresh) ? fresh : source.state_dict()[name], t), name);
    }

    public static TheoryData<string> Formats => new() { "pytorch", "safetensors", "torchsharp" };

    [Theory]
    [MemberData(nameof(Formats))]
    public void A_truncated_file_of_each_format_is_refused_naming_the_path(string format)
    {
        using var scope = NewDisposeScope();
        byte[] whole = WholeFile(format);
        foreach (int length in new[] { 5, 12, whole.Length / 3, whole.Length / 2, whole.Length - 1 })
        {
            string path = Path.Combine(_dir, $"{format}-cut-at-{length}.weights");
            File.WriteAllBytes(path, whole[..length]);
            var error = Assert.Throws<EdgeTrainerException>(() => WeightFiles.Load(SmallModule(seed: 0), path));
            Assert.Equal(TrainerErrorCode.InvalidWeightsFile, error.Code);
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("empty", new byte[0])]
    [InlineData("text", new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o', (byte)' ', (byte)'w', (byte)'o', (byte)'r', (byte)'l', (byte)'d' })]
    [InlineData("a zip that is not a local file header", new byte[] { (byte)'P', (byte)'K', 5, 6, 0, 0, 0, 0, 0, 0 })]
    [InlineData("torchsharp-like with an unknown dtype", new byte[] { 1, 1, (byte)'w', 99, 1, 1, 0, 0, 0, 0 })]
    [InlineData("torchsharp-like with a control character in the name", new byte[] { 1, 2, (byte)'w', 7, 6, 1, 1, 0, 0, 0, 0 })]
    public void Content_of_no_known_format_is_refused_by_the_detector_naming_the_path(string what, byte[] content)
    {
        string path = Path.Combine(_dir, "weights.pt");
        File.WriteAllBytes(path, content);
        var error = Assert.Throws<EdgeTrainerException>(() => WeightFiles.Detect(path));
        Assert.Equal(TrainerErrorCode.InvalidWeightsFile, error.Code);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("neither", error.Message, StringComparison.Ordinal);
        _ = what;
    }

    [Fact]
    public void A_TorchSharp_file_with_bytes_after_its_last_tensor_is_refused()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(_dir, "long.bin");
        File.WriteAllBytes(path, [.. WholeFile("torchsharp"), 0, 0, 0, 0]);
        var error = Assert.Throws<EdgeTrainerException>(() => WeightFiles.Read(path));
        Assert.Equal(TrainerErrorCode.InvalidWeightsFile, error.Code);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("4 bytes follow", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_refused_naming_the_path()
    {
        string path = Path.Combine(_dir, "absent.safetensors");
        foreach (var call in new Action[] { () => WeightFiles.Detect(path), () => WeightFiles.Read(path), () => WeightFiles.Load(SmallModule(seed: 0), path) })
        {
            var error = Assert.Throws<EdgeTrainerException>(call);
            Assert.Equal(TrainerErrorCode.InvalidWeightsFile, error.Code);
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>A module with a float weight, a bias and BatchNorm buffers (including an int64 scalar).</summary>
    private static TorchSharp.Modules.Sequential SmallModule(int seed)
    {
        manual_seed(seed);
        var module = nn.Sequential(("conv", nn.Conv2d(3, 4, 3)), ("bn", nn.BatchNorm2d(4)));
        using (no_grad())
        {
            foreach (var (name, buffer) in module.named_buffers())
            {
                if (buffer.is_floating_point())
                    buffer.copy_(rand_like(buffer));
            }
        }
        return module;
    }

    private byte[] WholeFile(string format)
    {
        string path = Path.Combine(_dir, "whole." + format);
        switch (format)
        {
        case "pytorch":
            return File.ReadAllBytes(PeerFixtures.File("resnet18.pt"));
        case "safetensors":
            SafeTensors.Save(SmallModule(seed: 3).state_dict(), path);
            break;
        default:
            Checkpoint.Save(SmallModule(seed: 3), path);
            break;
        }
        return File.ReadAllBytes(path);
    }
}
