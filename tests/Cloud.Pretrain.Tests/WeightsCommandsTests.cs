using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop;

namespace EdgeTL.Cloud.Tests;

/// <summary><c>export-onnx --weights</c> and <c>import --from</c> read weights through the Trainer's one detector (content, not extension).</summary>
[Collection(PretrainedGroup.Name)]
public sealed class WeightsCommandsTests(PretrainedFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-cloud-weights-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ExportOnnx_TakesAPretrainCheckpointByContent_UnderAnyNameAndWithAnotherClassCount()
    {
        // A TorchSharp checkpoint named like safetensors, of 5 classes, into a 7-class model: the backbone loads, the head is skipped.
        string misnamed = Path.Combine(_dir, "backbone.safetensors");
        File.Copy(fixture.Checkpoint, misnamed);
        string loaded = Path.Combine(_dir, "loaded.onnx");
        string random = Path.Combine(_dir, "random.onnx");
        await Cli.ExpectAsync(0, "export-onnx", "--arch", "resnet18", "--classes", "7", "--weights", misnamed, "--part", "backbone", "--size", "32", "--out", loaded, "--threads", "2");
        await Cli.ExpectAsync(0, "export-onnx", "--arch", "resnet18", "--classes", "7", "--part", "backbone", "--size", "32", "--out", random, "--threads", "2");
        Assert.NotEqual(File.ReadAllBytes(random), File.ReadAllBytes(loaded));
    }

    [Fact]
    public async Task ExportOnnx_TruncatedOrUnknownWeights_ExitWithDataError()
    {
        byte[] checkpoint = File.ReadAllBytes(fixture.Checkpoint);
        string truncated = Path.Combine(_dir, "truncated.bin");
        File.WriteAllBytes(truncated, checkpoint[..(checkpoint.Length / 2)]);
        string unknown = Path.Combine(_dir, "unknown.pt");
        File.WriteAllText(unknown, "not weights at all");
        foreach (string path in new[] { truncated, unknown })
            await Cli.ExpectAsync(ExitCodes.DataError, "export-onnx", "--arch", "resnet18", "--classes", "5", "--weights", path, "--part", "backbone", "--size", "32", "--out", Path.Combine(_dir, "x.onnx"), "--threads", "2");
        Assert.False(File.Exists(Path.Combine(_dir, "x.onnx")));
    }

    [Fact]
    public async Task Import_TakesSafetensorsNamedLikeAPyTorchFile_AndItsOutputExportsAgain()
    {
        string misnamed = Path.Combine(_dir, "torchvision.pt");
        using (var reference = BackboneZoo.CreateReference("resnet18", seed: 4))
            SafeTensors.Save(reference.state_dict(), misnamed);
        string output = Path.Combine(_dir, "imported");
        await Cli.ExpectAsync(0, "import", "--from", misnamed, "--arch", "resnet18", "--out", output, "--threads", "2");
        Assert.True(File.Exists(Path.Combine(output, "weights.safetensors")));
        Assert.True(File.Exists(Path.Combine(output, "backbone.onnx")));

        // The README's next step: the imported (bare backbone) weights export again.
        await Cli.ExpectAsync(0, "export-onnx", "--arch", "resnet18", "--weights", Path.Combine(output, "weights.safetensors"), "--part", "backbone", "--size", "32",
            "--out", Path.Combine(_dir, "reexported.onnx"), "--threads", "2");
    }
}
