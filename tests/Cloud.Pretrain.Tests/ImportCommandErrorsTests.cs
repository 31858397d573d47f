using EdgeTL.Trainer.Backbones;
using EdgeTL.Trainer.Interop.Onnx;

namespace EdgeTL.Cloud.Tests;

/// <summary>
/// <c>import</c> on bad input: a missing file is a clean data error naming it, a flag the source kind does not
/// take is refused, and a failed import leaves no output folder behind (issue 18, defects 4 and 5).
/// </summary>
public sealed class ImportCommandErrorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-cloud-import-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_missing_onnx_or_preprocessing_file_is_exit_3_naming_the_path_and_writes_nothing()
    {
        string missing = Path.Combine(_dir, "nowhere.onnx"), output = Path.Combine(_dir, "out");
        var run = await Cli.ExpectAsync(3, "import", "--from", missing, "--out", output);
        Assert.Contains(missing, run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);   // a message, not a stack trace

        string backbone = Backbone();
        string graph = Path.Combine(_dir, "preprocess.onnx");
        run = await Cli.ExpectAsync(3, "import", "--from", backbone, "--preprocess", graph, "--out", output);
        Assert.Contains(graph, run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Theory]
    [InlineData("model.onnx", "--arch", "resnet18", "--arch")]
    [InlineData("model.onnx", "--skip-head", null, "--skip-head")]
    [InlineData("model.pt", "--full", null, "--full")]
    [InlineData("model.safetensors", "--preprocess", "p.onnx", "--preprocess")]
    public async Task A_flag_the_source_kind_does_not_take_is_refused_with_exit_2(string file, string flag, string? value, string named)
    {
        var args = new List<string> { "import", "--from", Path.Combine(_dir, file), "--out", Path.Combine(_dir, "o") };
        if (file.EndsWith(".pt", StringComparison.Ordinal) || file.EndsWith(".safetensors", StringComparison.Ordinal))
            args.AddRange(["--arch", "resnet18"]);
        args.Add(flag);
        if (value is not null)
            args.Add(value);
        var run = await Cli.ExpectAsync(2, [.. args]);
        Assert.Contains(named, run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "o")));
    }

    [Fact]
    public async Task A_corrupt_onnx_file_fails_and_leaves_no_output_folder()
    {
        string corrupt = Path.Combine(_dir, "corrupt.onnx"), output = Path.Combine(_dir, "nested", "out");
        byte[] bytes = await File.ReadAllBytesAsync(Backbone());
        await File.WriteAllBytesAsync(corrupt, bytes.AsSpan(0, bytes.Length / 3).ToArray());
        var run = await Cli.InvokeAsync("import", "--from", corrupt, "--out", output);
        Assert.NotEqual(0, run.ExitCode);
        Assert.False(Directory.Exists(Path.Combine(_dir, "nested")), $"a failed import left {output}: {run}");

        // The same import of the whole file succeeds and writes both files.
        await Cli.ExpectAsync(0, "import", "--from", Backbone(), "--out", output, "--threads", "2");
        Assert.True(File.Exists(Path.Combine(output, "backbone.onnx")) && File.Exists(Path.Combine(output, "weights.safetensors")));
    }

    [Fact]
    public async Task Weights_of_another_architecture_are_named_by_the_architecture_they_fit()
    {
        string weights = Path.Combine(_dir, "r34.safetensors");
        using (var reference = BackboneZoo.CreateReference("resnet34", seed: 0))
            EdgeTL.Trainer.Interop.SafeTensors.Save(reference.state_dict(), weights);
        var run = await Cli.ExpectAsync(3, "import", "--from", weights, "--arch", "resnet18", "--out", Path.Combine(_dir, "o4"));
        Assert.Contains("'resnet34'", run.Error, StringComparison.Ordinal);
        Assert.Contains("--arch resnet34", run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "o4")));
    }

    [Fact]
    public async Task An_onnx_import_writes_a_backbone_of_output_n_by_d_as_a_pytorch_import_does()
    {
        string fromOnnx = Path.Combine(_dir, "from-onnx"), fromTorch = Path.Combine(_dir, "from-torch");
        await Cli.ExpectAsync(0, "import", "--from", Backbone(), "--out", fromOnnx, "--threads", "2");
        string weights = Path.Combine(_dir, "r18.safetensors");
        using (var reference = BackboneZoo.CreateReference("resnet18", seed: 0))
            EdgeTL.Trainer.Interop.SafeTensors.Save(reference.state_dict(), weights);
        await Cli.ExpectAsync(0, "import", "--from", weights, "--arch", "resnet18", "--skip-head", "--out", fromTorch, "--threads", "2");
        var input = new float[2 * 3 * 64 * 64];
        foreach (string folder in new[] { fromOnnx, fromTorch })
        {
            using var session = EdgeTL.Runtime.Onnx.OnnxModel.Load(File.ReadAllBytes(Path.Combine(folder, "backbone.onnx")));
            var (_, shape) = session.Run(input, [2, 3, 64, 64]);
            Assert.Equal([2, 512], shape);
        }
    }

    [Fact]
    public async Task A_preprocessing_graph_that_does_not_fit_the_backbone_names_both_shapes()
    {
        // A "preprocessing" graph that flattens its image: rank 2 out, where the backbone takes rank 4.
        var graph = new Onnx.GraphProto { Name = "flattening-preprocess" };
        var flatten = new Onnx.NodeProto { Name = "flatten", OpType = "Flatten" };
        flatten.Input.Add("pixels");
        flatten.Output.Add("flat");
        graph.Node.Add(flatten);
        graph.Input.Add(Value("pixels", 1, 3, 64, 64));
        graph.Output.Add(Value("flat", 1, 3 * 64 * 64));
        var model = new Onnx.ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new Onnx.OperatorSetIdProto { Domain = "", Version = 13 });
        string preprocess = Path.Combine(_dir, "flatten.onnx");
        await File.WriteAllBytesAsync(preprocess, Google.Protobuf.MessageExtensions.ToByteArray(model));

        var run = await Cli.ExpectAsync(3, "import", "--from", Backbone(), "--preprocess", preprocess, "--out", Path.Combine(_dir, "o5"));
        Assert.Contains("[1, 12288]", run.Error, StringComparison.Ordinal);
        Assert.Contains("do not fit", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("rank-2", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_onnx_from_an_import_folder_writes_the_imported_graph_with_its_weights()
    {
        string imported = Path.Combine(_dir, "imported"), exported = Path.Combine(_dir, "exported.onnx");
        await Cli.ExpectAsync(0, "import", "--from", Backbone(), "--out", imported, "--threads", "2");
        var run = await Cli.ExpectAsync(0, "export-onnx", "--from", imported, "--fp16", "--out", exported, "--threads", "2");
        Assert.Contains("backbone", run.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.ChangeExtension(exported, ".fp16.onnx")));

        var input = Enumerable.Range(0, 2 * 3 * 64 * 64).Select(i => (float)Math.Sin(i * 0.01)).ToArray();
        using var original = EdgeTL.Runtime.Onnx.OnnxModel.Load(Path.Combine(imported, "backbone.onnx"));
        using var written = EdgeTL.Runtime.Onnx.OnnxModel.Load(exported);
        var (expected, expectedShape) = original.Run(input, [2, 3, 64, 64]);
        var (actual, actualShape) = written.Run(input, [2, 3, 64, 64]);
        Assert.Equal(expectedShape, actualShape);
        double scale = expected.Max(MathF.Abs), diff = expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(diff <= 1e-5 * Math.Max(1, scale), $"max |Δ| {diff:E2} at output scale {scale:F2}");

        var refused = await Cli.ExpectAsync(2, "export-onnx", "--from", imported, "--weights", Backbone(), "--out", Path.Combine(_dir, "z.onnx"));
        Assert.Contains("--weights", refused.Error, StringComparison.Ordinal);
        string missing = Path.Combine(_dir, "no-import");
        refused = await Cli.ExpectAsync(3, "export-onnx", "--from", missing, "--out", Path.Combine(_dir, "z.onnx"));
        Assert.Contains(missing, refused.Error, StringComparison.Ordinal);
    }

    private static Onnx.ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new Onnx.TensorShapeProto();
        foreach (long d in dims)
            shape.Dim.Add(new Onnx.TensorShapeProto.Types.Dimension { DimValue = d });
        return new Onnx.ValueInfoProto { Name = name, Type = new Onnx.TypeProto { TensorType = new Onnx.TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }

    private string Backbone()
    {
        string path = Path.Combine(_dir, "resnet18.onnx");
        if (!File.Exists(path))
        {
            using var backbone = BackboneZoo.Create("resnet18");
            OnnxExporter.Save(backbone, path);
        }
        return path;
    }
}
