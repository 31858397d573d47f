using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests;

/// <summary>
/// Parity fixtures written by the real PyTorch peer (Debian python3-torch and
/// python3-torchvision) through <c>tools/peer/torchvision_fixtures.py</c>, once per machine and
/// script version, into the temp folder. Missing PyTorch is a clear failure, not a skip:
/// <c>scripts/test.sh</c> installs it.
/// </summary>
internal static class PeerFixtures
{
    private const string Python = "/usr/bin/python3";
    private static readonly Lazy<string> LazyDirectory = new(Generate);

    /// <summary>The fixture folder, generated on first use.</summary>
    public static string Directory => LazyDirectory.Value;

    /// <summary>The repository root (the folder holding EdgeTL.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>A file of the fixture folder.</summary>
    public static string File(string name) => Path.Combine(Directory, name);

    /// <summary>The seeded input and PyTorch's logits for <paramref name="arch"/>.</summary>
    public static (Tensor Input, Tensor Logits) InputAndLogits(string arch)
    {
        using var info = JsonDocument.Parse(System.IO.File.ReadAllText(File(arch + ".json")));
        long[] inShape = [.. info.RootElement.GetProperty("input_shape").EnumerateArray().Select(e => e.GetInt64())];
        long[] outShape = [.. info.RootElement.GetProperty("logits_shape").EnumerateArray().Select(e => e.GetInt64())];
        return (ReadF32(File(arch + ".input.f32"), inShape), ReadF32(File(arch + ".logits.f32"), outShape));
    }

    private static Tensor ReadF32(string path, long[] shape)
    {
        byte[] bytes = System.IO.File.ReadAllBytes(path);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return tensor(values).reshape(shape);
    }

    private static string Generate()
    {
        string script = Path.Combine(RepoRoot, "tools", "peer", "torchvision_fixtures.py");
        string hash = Convert.ToHexString(SHA256.HashData(System.IO.File.ReadAllBytes(script)))[..12];
        string dir = Path.Combine(Path.GetTempPath(), "edgetl-peer-fixtures-" + hash);
        string done = Path.Combine(dir, ".complete");
        if (System.IO.File.Exists(done))
            return dir;
        if (!System.IO.File.Exists(Python))
            throw new InvalidOperationException($"{Python} is missing; run scripts/test.sh, which installs python3-torch and python3-torchvision.");
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(dir);
        using var process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)) || process.ExitCode != 0)
            throw new InvalidOperationException(
                $"The PyTorch peer failed to write fixtures (exit {process.ExitCode}); scripts/test.sh installs python3-torch and python3-torchvision.\n{stdout}\n{stderr}");
        System.IO.File.WriteAllText(done, stdout);
        return dir;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "EdgeTL.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("EdgeTL.sln not found above " + AppContext.BaseDirectory);
    }
}
