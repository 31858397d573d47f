using System.Diagnostics;
using EdgeTL.Trainer.Interop.Onnx;
using EdgeTL.Trainer.Models;
using Google.Protobuf;
using Xunit.Abstractions;

namespace EdgeTL.Bench.Tests;

/// <summary>
/// Every bench verb, run the way bench/README.md runs it (the <c>edgetl-bench</c> executable, PyTorch
/// peer included) with the smallest settings, so that a broken benchmark fails CI instead of its
/// next user. Figures are not asserted (speed is measured in bench/, not here); that each verb
/// finishes, exits 0 and prints its tables is.
/// </summary>
public sealed class BenchSmokeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(8);

    [Fact]
    public void Extract_prints_ort_torchsharp_and_pytorch_side_by_side()
    {
        string text = Bench("extract", "--archs", "resnet18", "--sizes", "32", "--rounds", "1", "--seconds", "0.3", "--batch", "4", "--int8", "--mlnet-fixed");
        Assert.Contains("ORT/PyTorch", text, StringComparison.Ordinal);
        Assert.Matches(@"resnet18\s+32\s+[\d.]+", text);
        Assert.Contains("ORT/PyTorch int8", text, StringComparison.Ordinal);
        Assert.Matches(@"resnet18\s+32\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+×\s+[\d.]+×", text);   // fp32, int8, PyTorch int8, both ratios
        Assert.Matches(@"mlnet-resnet18\s+224\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+×\s+[\d.]+×", text);   // ML.NET's graph as import ships it
        Assert.Matches(@"mlnet-fixed1\s+224\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+×\s+[\d.]+×", text);     // NuGet's files, fixed batch 1
    }

    [Fact]
    public void Train_runs_every_section_steps_modes_cache_epochs_and_memory()
    {
        string text = Bench("train", "--archs", "resnet18", "--sizes", "32", "--rounds", "1", "--seconds", "0.3", "--batch", "4", "--modes", "surgical");
        Assert.Matches(@"resnet18\s+32\s+[\d.]+", text);
        Assert.Matches(@"surgical\s+32\s+[\d.]+", text);
        Assert.Matches(@"stage4\s+32\s+fp32\s+[\d.]+\s+[\d.]+\s+[\d.]+×", text);   // the cache, in fp32 and in the device's policy
        Assert.Matches(@"stage4\s+32\s+auto\s+[\d.]+\s+[\d.]+\s+[\d.]+×", text);
        Assert.Matches(@"stage4 ceiling\s+32\s+Float32 .*prefix forward [\d.]+ ms.*ceiling with these kernels [\d.]+×, if backward ran at forward's rate [\d.]+×", text);
        Assert.Contains("progressive run (s)", text, StringComparison.Ordinal);
        Assert.Contains("head-only", text, StringComparison.Ordinal);
        Assert.Contains("MB", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Agent_measures_the_outbox_command_latency_and_a_short_soak_on_mosquitto()
    {
        string text = Bench("agent", "--parts", "a,b,c", "--seconds", "1", "--warmup", "0", "--step-seconds", "1", "--rates", "50",
            "--minutes", "0.1", "--soak-rate", "20", "--sample-seconds", "1");
        Assert.Contains("metrics/s", text, StringComparison.Ordinal);
        Assert.Contains("p99", text, StringComparison.Ordinal);
        Assert.Contains("RSS", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Shifts_smoke_runs_every_method_on_both_shifts()
    {
        string text = Bench("shifts", "--smoke");
        foreach (var method in new[] { "source-only", "head", "mmd", "dann", "bn", "tent", "surgical", "progressive" })
            Assert.Matches($@"(?m)^{method}\s+(yes|no)\s+[\d.]+ %", text);
        Assert.Contains("Inverted: mean of 1 seed", text, StringComparison.Ordinal);
        Assert.Contains("NoiseLowContrast: mean of 1 seed", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Gpu_check_on_a_machine_without_a_gpu_skips_the_providers_and_says_so()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"edgetl-bench-smoke-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            using (var model = TransferModel.Create("resnet18", 5, seed: 0))
                File.WriteAllBytes(Path.Combine(folder, "backbone.onnx"), OnnxExporter.Export(model.Backbone.Network, new OnnxExportOptions { TraceInputSize = 32 }).ToByteArray());
            string text = Bench("gpu-check", "--model", folder, "--batch", "2", "--seconds", "0.3");
            Assert.Contains("reference: ONNX Runtime CPU fp32", text, StringComparison.Ordinal);
            Assert.Contains("Cuda", text, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_bad_option_is_a_usage_error_not_a_crash()
    {
        var (code, text) = Start("shifts", "--seeds", "0");
        Assert.Equal(2, code);
        Assert.Contains("at least 1", text, StringComparison.Ordinal);
        (code, text) = Start("no-such-verb");
        Assert.Equal(2, code);
        Assert.Contains("edgetl-bench", text, StringComparison.Ordinal);
    }

    private string Bench(params string[] args)
    {
        var (code, text) = Start(args);
        output.WriteLine(text);
        Assert.True(code == 0, $"edgetl-bench {string.Join(' ', args)} exited {code}:\n{text}");
        return text;
    }

    private static (int Code, string Text) Start(params string[] args)
    {
        string bench = Path.Combine(AppContext.BaseDirectory, "edgetl-bench.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(bench);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"edgetl-bench {string.Join(' ', args)} ran past {Limit}.");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
