using System.Diagnostics;
using System.Text.Json;
using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Runtime.Preprocessing;

namespace EdgeTL.Runtime.Tests.Preprocessing;

/// <summary>
/// The manifest-driven preprocessing against an independent reference: the same raw pixels
/// processed by PyTorch (tools/peer/preprocess_reference.py, Debian python3-torch). JPEG
/// decoding is left out of the comparison on purpose (decoders differ in their IDCT); the
/// pixels are decoded once here and handed to both.
/// </summary>
public sealed class PreprocessingReferenceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-preprocess-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, int, float, bool> Cases => new()
    {
        { "fmnist", 32, 1f, false },      // 28 → 32, grayscale → RGB, ImageNet mean/std
        { "fmnist", 224, 1f, false },     // 28 → 224
        { "photo", 64, 1f, true },        // 256 → 64, BGR
        { "photo", 300, 1f, false },      // 256 → 300
        { "photo", 64, 0.5f, false },     // centre crop 128, then 64
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Preprocessing_from_a_manifest_matches_PyTorch_within_1e_5(string source, int size, float crop, bool bgr)
    {
        var (pixels, height, width, channels) = source == "fmnist" ? FashionImage() : Photo();
        var spec = new InputSpec
        {
            Size = size,
            ChannelOrder = bgr ? "BGR" : "RGB",
            CenterCropFraction = crop,
            Mean = bgr ? [0.406f, 0.456f, 0.485f] : [0.485f, 0.456f, 0.406f],
            Std = bgr ? [0.225f, 0.224f, 0.229f] : [0.229f, 0.224f, 0.225f],
        };
        var pipeline = spec.ToPipeline();
        var ours = new float[pipeline.SampleLength];
        pipeline.Process(pixels, height, width, channels, ours, null);

        string raw = Path.Combine(_dir, "in.raw"), output = Path.Combine(_dir, "out.f32"), cases = Path.Combine(_dir, "cases.json");
        File.WriteAllBytes(raw, pixels);
        File.WriteAllText(cases, JsonSerializer.Serialize(new[]
        {
            new { input = raw, height, width, channels, size, crop, mean = spec.Mean, std = spec.Std, bgr, output },
        }));
        RunPeer(cases);
        byte[] bytes = File.ReadAllBytes(output);
        var reference = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, reference, 0, bytes.Length);

        Assert.Equal(reference.Length, ours.Length);
        double maxDiff = reference.Zip(ours).Max(p => Math.Abs(p.First - p.Second));
        Console.WriteLine($"{source} → {size} crop {crop} {(bgr ? "BGR" : "RGB")}: max |Δ| = {maxDiff:E2}");
        Assert.True(maxDiff <= 1e-5, $"max |Δ| = {maxDiff:E2}");
    }

    private static (byte[], int, int, int) FashionImage()
    {
        var test = FashionMnist.LoadTest();
        return (test.Image(17).ToArray(), 28, 28, 1);
    }

    private static (byte[], int, int, int) Photo()
    {
        string path = Path.Combine(TestPaths.RepoRoot, "data", "photos", "chelsea.jpg");
        var (rgb, height, width) = new ImageDecoder().Decode(File.ReadAllBytes(path));
        return (rgb.ToArray(), height, width, 3);
    }

    private static void RunPeer(string cases)
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python))
            throw new InvalidOperationException($"{python} is missing; scripts/test.sh installs python3-torch.");
        var start = new ProcessStartInfo(python) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(TestPaths.RepoRoot, "tools", "peer", "preprocess_reference.py"));
        start.ArgumentList.Add(cases);
        using var process = Process.Start(start)!;
        string errors = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)) || process.ExitCode != 0)
            throw new InvalidOperationException($"The PyTorch reference failed (exit {process.ExitCode}): {errors}");
    }
}
