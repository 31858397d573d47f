using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Interop.Onnx.Quantization;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Packaging;

namespace EdgeTL.Agent.Tests.Deployment;

/// <summary>
/// Real signed packages for the deployer tests, built once: two ResNet-18 transfer models
/// (different seeds) packaged by <see cref="ModelPackager"/> at 32 px with two golden images
/// from the bundled Fashion-MNIST, then re-signed with any counter (and, for the golden-mismatch
/// case, with perturbed golden features).
/// </summary>
public sealed class DeploymentPackages : IDisposable
{
    public DeploymentPackages()
    {
        Root = Directory.CreateTempSubdirectory("edgetl-deploy-").FullName;
        Key = SigningKey.Create();
        Trusted = new TrustedKeys([SigningKey.FromPem(Key.PublicPem())]);
        Images = FashionMnist.LoadTest().SelectClasses([0, 1, 2, 3, 4]).SamplePerClass(1, seed: 3);
        First = Build("first", seed: 4);
        Second = Build("second", seed: 5);
    }

    public string Root { get; }

    public SigningKey Key { get; }

    public TrustedKeys Trusted { get; }

    /// <summary>Five real test images (one per class).</summary>
    public LabeledImageSet Images { get; }

    /// <summary>The directory form of the first model's package.</summary>
    public string First { get; }

    /// <summary>The directory form of the second model's package.</summary>
    public string Second { get; }

    /// <summary>
    /// Signs the files of <paramref name="model"/> (a directory package) into a tar with another
    /// counter; <paramref name="goldenOffset"/> is added to every golden feature first.
    /// </summary>
    public string Sign(string model, string name, long counter, float goldenOffset = 0, SigningKey? key = null)
    {
        var manifest = ModelPackage.Verify(model, Trusted).Manifest;
        string work = Path.Combine(Root, name + ".files");
        var files = new List<(string, string, string)>();
        foreach (var file in manifest.Files)
        {
            string source = Path.Combine(model, file.Path);
            if (file.Role == PackageFileRoles.GoldenOutputs && goldenOffset != 0)
            {
                var bytes = File.ReadAllBytes(source);
                var values = new float[bytes.Length / 4];
                Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
                for (int i = 0; i < values.Length; i++)
                    values[i] += goldenOffset;
                Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
                Directory.CreateDirectory(work);
                source = Path.Combine(work, "features.f32");
                File.WriteAllBytes(source, bytes);
            }
            files.Add((file.Path, file.Role, source));
        }
        string output = Path.Combine(Root, name + ".tar");
        ModelPackage.Write(output, manifest with { Counter = counter, Version = $"1.{counter}.0" }, files, key ?? Key);
        return output;
    }

    /// <summary>
    /// The first model's package with an int8 backbone added (min/max calibration on the five images, int8 golden features on the
    /// golden inputs, <paramref name="budgetPoints"/> as the accuracy budget), as a directory; <paramref name="goldenOffset"/> is added
    /// to every int8 golden feature.
    /// </summary>
    public string WithInt8(string name, double budgetPoints, float goldenOffset = 0)
    {
        var manifest = ModelPackage.Verify(First, Trusted).Manifest;
        var pipeline = manifest.Input.ToPipeline();
        var calibration = new float[Images.Count * pipeline.SampleLength];
        for (int i = 0; i < Images.Count; i++)
            pipeline.Process(Images, i, calibration.AsSpan(i * pipeline.SampleLength, pipeline.SampleLength), null);
        var quantized = OnnxQuantizer.Quantize(File.ReadAllBytes(Path.Combine(First, "backbone.onnx")),
            [(calibration, [Images.Count, 3, manifest.Input.Size, manifest.Input.Size])]);
        float[] goldenInputs = GoldenCheck.ReadFloats(Path.Combine(First, "golden", "inputs.f32"));
        var (backbone, golden, section) = Int8Packaging.Write(quantized, CalibrationMethod.MinMax, "golden images", goldenInputs, manifest.Golden!.Count,
            Path.Combine(Root, name + ".int8"), budgetPoints);
        if (goldenOffset != 0)
            GoldenCheck.WriteFloats(golden, [.. GoldenCheck.ReadFloats(golden).Select(v => v + goldenOffset)]);
        string output = Path.Combine(Root, name);
        Int8Packaging.AddTo(First, manifest, backbone, golden, section, Key, output, asDirectory: true);
        return output;
    }

    /// <summary>The golden features recorded in a directory package.</summary>
    public static float[] GoldenFeatures(string model)
    {
        var bytes = File.ReadAllBytes(Path.Combine(model, "golden", "features.f32"));
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    public void Dispose()
    {
        Trusted.Dispose();
        Key.Dispose();
        Directory.Delete(Root, recursive: true);
    }

    private string Build(string name, int seed)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var model = TransferModel.Create("resnet18", classes: 5, seed: seed);
        string output = Path.Combine(Root, name);
        ModelPackager.Write(model, new PackageRequest
        {
            Name = "fmnist-resnet18",
            Version = "1.0.0",
            Counter = 1,
            Labels = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"],
            Input = new ImagePipelineOptions { InputSize = 32 },
            GoldenImages = Images,
            GoldenCount = 2,
            IncludeFloat16 = false,
            AsDirectory = true,
        }, Key, output);
        return output;
    }
}
