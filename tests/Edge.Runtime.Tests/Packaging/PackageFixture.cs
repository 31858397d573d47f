using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Runtime.Tests.Packaging;

/// <summary>A temp folder with a signing key, the files of a small package, and helpers to build packages.</summary>
internal sealed class PackageFixture : IDisposable
{
    public PackageFixture()
    {
        Root = Directory.CreateTempSubdirectory("edgetl-package-").FullName;
        Key = SigningKey.Create();
        Trusted = new TrustedKeys([SigningKey.FromPem(Key.PublicPem())]);
        var random = new Random(7);
        Files = [("backbone.onnx", PackageFileRoles.Backbone, 20_000), ("head.onnx", PackageFileRoles.Head, 3_001), ("weights/trainer.safetensors", PackageFileRoles.Weights, 9_999)];
        foreach (var (name, _, size) in Files)
        {
            var bytes = new byte[size];
            random.NextBytes(bytes);
            string path = Source(name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
        }
    }

    public string Root { get; }

    public SigningKey Key { get; }

    public TrustedKeys Trusted { get; }

    public (string Name, string Role, int Size)[] Files { get; }

    public string Source(string name) => Path.Combine(Root, "src", name);

    public static ModelManifest Manifest(long counter, string version = "1.0.0") => new()
    {
        Name = "fmnist-resnet18",
        Architecture = "resnet18",
        Version = version,
        Counter = counter,
        Input = new InputSpec { Size = 32, Mean = [0.485f, 0.456f, 0.406f], Std = [0.229f, 0.224f, 0.225f] },
        FeatureDim = 512,
        Labels = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"],
        LayerGroups = [new LayerGroupInfo("stem", 9536), new LayerGroupInfo("head", 265_221)],
        Files = [],
        Provenance = new Provenance { CreatedAt = new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero), Tool = "tests", Dataset = "fashion-mnist 0-4", Epochs = 6 },
        Metrics = new Dictionary<string, double> { ["sourceAccuracy"] = 0.884 },
        Golden = new GoldenSet(4, 1e-4),
    };

    /// <summary>Writes a package signed by <paramref name="key"/> (default: the trusted key).</summary>
    public string Build(string name, long counter, bool asDirectory = false, SigningKey? key = null, string version = "1.0.0")
    {
        string path = Path.Combine(Root, name);
        ModelPackage.Write(path, Manifest(counter, version), [.. Files.Select(f => (f.Name, f.Role, Source(f.Name)))], key ?? Key, asDirectory);
        return path;
    }

    public void Dispose()
    {
        Trusted.Dispose();
        Key.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}
