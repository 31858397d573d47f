using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Interop;

public sealed class WeightFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-weights-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Safetensors_round_trip_keeps_names_dtypes_and_values()
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["a.weight"] = randn(3, 4),
            ["b.half"] = randn(5).to(ScalarType.Float16),
            ["c.count"] = tensor(new long[] { 7, -2 }),
            ["d.bf16"] = randn(2, 2).to(ScalarType.BFloat16),
        };
        string path = Path.Combine(_dir, "x.safetensors");
        SafeTensors.Save(tensors, path, new Dictionary<string, string> { ["format"] = "pt" });
        var loaded = SafeTensors.Load(path);
        Assert.Equal(tensors.Keys.Order(), loaded.Keys.Order());
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.dtype, loaded[name].dtype);
            Assert.True(TestData.Same(t, loaded[name]), name);
        }
    }

    [Fact]
    public void A_model_saved_here_as_safetensors_loads_back_exactly()
    {
        using var scope = NewDisposeScope();
        var source = BackboneZoo.CreateReference("mobilenet_v2", seed: 1);
        string path = Path.Combine(_dir, "m.safetensors");
        SafeTensors.Save(source.state_dict(), path);
        var target = BackboneZoo.CreateReference("mobilenet_v2", seed: 2);
        StateDictLoader.LoadFile(target, path);
        foreach (var (name, t) in source.state_dict())
            Assert.True(TestData.Same(t, target.state_dict()[name]), name);
    }

    [Theory]
    [InlineData("empty", new byte[0])]
    [InlineData("not a format", new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 })]
    [InlineData("header longer than file", new byte[] { 200, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}' })]
    [InlineData("bad json", new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'x' })]
    [InlineData("zip that is not torch", new byte[] { (byte)'P', (byte)'K', 3, 4, 0, 0, 0, 0, 0, 0 })]
    public void Corrupt_weight_files_give_a_clear_error(string what, byte[] content)
    {
        string path = Path.Combine(_dir, "bad.bin");
        File.WriteAllBytes(path, content);
        var error = Assert.Throws<EdgeTrainerException>(() => WeightFiles.Read(path));
        Assert.Equal(TrainerErrorCode.InvalidWeightsFile, error.Code);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        _ = what;
    }

    [Fact]
    public void Truncated_files_of_both_formats_give_a_clear_error()
    {
        foreach (var name in new[] { "resnet18.safetensors", "resnet18.pt" })
        {
            byte[] bytes = File.ReadAllBytes(PeerFixtures.File(name));
            string path = Path.Combine(_dir, "truncated-" + name);
            File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
            var error = Assert.Throws<EdgeTrainerException>(() => WeightFiles.Read(path));
            Assert.Equal(TrainerErrorCode.InvalidWeightsFile, error.Code);
        }
    }

    [Fact]
    public void A_safetensors_entry_whose_bytes_do_not_match_its_shape_is_rejected()
    {
        string header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
        var headerBytes = System.Text.Encoding.UTF8.GetBytes(header);
        var bytes = BitConverter.GetBytes((ulong)headerBytes.Length).Concat(headerBytes).Concat(new byte[8]).ToArray();
        var error = Assert.Throws<EdgeTrainerException>(() => SafeTensors.Parse(bytes));
        Assert.Contains("needs 12", error.Message, StringComparison.Ordinal);
    }
}
