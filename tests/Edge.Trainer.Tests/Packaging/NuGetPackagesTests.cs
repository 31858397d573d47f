using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;
using EdgeTL.Trainer.Interop.Onnx;
using Xunit.Abstractions;

namespace EdgeTL.Trainer.Tests.Packaging;

/// <summary>
/// EdgeTL as packages a project adds: <c>dotnet pack</c> of EdgeTL.Protocol, EdgeTL.Runtime and
/// EdgeTL.Trainer into a folder feed, then a fresh console project in a temporary folder (away from
/// this repository's props and targets) that adds them with <c>dotnet add package --source</c>, imports
/// ML.NET's ImageNet ResNet-18 through the public entry point, extracts features of the real photos
/// and trains a head. TorchSharp loads there only because the Trainer package's <c>buildTransitive</c>
/// target patches libLibTorchSharp as the repository's own build does.
/// </summary>
public sealed class NuGetPackagesTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Packed = ["Edge.Protocol", "Edge.Runtime", "Edge.Trainer"];
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-nuget-").FullName;
    // A version of this run only: NuGet's global folder never serves a package packed by another run.
    private readonly string _version = "0.5.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } root ? root
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in new[] { "edgetl.protocol", "edgetl.runtime", "edgetl.trainer" })
        {
            string cached = Path.Combine(packages, id, _version);
            if (Directory.Exists(cached))
                Directory.Delete(cached, recursive: true);
        }
    }

    [Fact]
    public async Task The_packed_libraries_build_and_run_in_a_fresh_console_project_that_imports_the_ImageNet_backbone_and_trains_a_head()
    {
        string feed = Path.Combine(_dir, "feed");
        string configuration = typeof(NuGetPackagesTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        foreach (var library in Packed)
        {
            await Run(PeerFixtures.RepoRoot, "pack", Path.Combine("src", library), "-c", configuration, "--no-build", "-o", feed, $"-p:Version={_version}", "-nologo");
        }
        CheckPackageContents(feed);

        string app = Path.Combine(_dir, "app");
        Directory.CreateDirectory(app);
        await Run(app, "new", "console", "--name", "ImageNetHead", "--output", app, "--framework", "net10.0");
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="edgetl-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        await Run(app, "add", "package", "EdgeTL.Trainer", "--version", _version, "--source", feed);
        await Run(app, "add", "package", "EdgeTL.Protocol", "--version", _version, "--source", feed);
        string csproj = Path.Combine(app, "ImageNetHead.csproj");
        var project = XDocument.Load(csproj);
        project.Root!.Add(new XElement("ItemGroup",
            new XElement("PackageDownload", new XAttribute("Include", MlNetResNet18.PackageId), new XAttribute("Version", $"[{MlNetResNet18.PackageVersion}]"))));
        project.Save(csproj);
        File.Copy(Path.Combine(PeerFixtures.RepoRoot, "samples", "imagenet-head", "Program.cs"), Path.Combine(app, "Program.cs"), overwrite: true);

        string ran = await Run(app, "run", "-c", "Release", "--", Path.Combine(PeerFixtures.RepoRoot, "data", "photos"));
        output.WriteLine(ran);

        Assert.Contains("features: 4 photos × 512", ran, StringComparison.Ordinal);
        double delta = double.Parse(Between(ran, "max |Δ| ", "\n"), CultureInfo.InvariantCulture);
        Assert.True(delta < 1e-3, $"TorchSharp and ONNX Runtime features differ by {delta}");
        var losses = Between(ran, "train loss ", " in").Split(" → ").Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(losses[1] < losses[0] / 2, $"the head did not learn: {losses[0]} → {losses[1]}");
        Assert.Contains("ready to answer 'predict' commands", ran, StringComparison.Ordinal);
    }

    /// <summary>Each package has its README, XML docs, SourceLink'd symbols, and the Trainer its buildTransitive target.</summary>
    private void CheckPackageContents(string feed)
    {
        foreach (var (id, assembly) in new[] { ("EdgeTL.Protocol", "EdgeTL.Protocol"), ("EdgeTL.Runtime", "Edge.Runtime"), ("EdgeTL.Trainer", "Edge.Trainer") })
        {
            string nupkg = Path.Combine(feed, $"{id}.{_version}.nupkg");
            Assert.True(File.Exists(nupkg), $"{nupkg} was not packed");
            using var zip = ZipFile.OpenRead(nupkg);
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
            output.WriteLine($"{id}: {string.Join(", ", entries.Where(e => !e.StartsWith('_') && !e.StartsWith("package/", StringComparison.Ordinal)))}");
            Assert.Contains("README.md", entries);
            Assert.Contains($"lib/net10.0/{assembly}.dll", entries);
            Assert.Contains($"lib/net10.0/{assembly}.xml", entries);
            using var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
            string text = nuspec.ReadToEnd();
            Assert.Contains("<readme>README.md</readme>", text, StringComparison.Ordinal);
            Assert.Contains("<repository type=\"git\"", text, StringComparison.Ordinal);   // SourceLink: the commit the package was built from
            Assert.True(File.Exists(Path.Combine(feed, $"{id}.{_version}.snupkg")), $"{id} has no symbol package");
            if (id == "EdgeTL.Trainer")
                Assert.Contains("buildTransitive/EdgeTL.Trainer.targets", entries);
        }
    }

    private static string Between(string text, string start, string end)
    {
        int from = text.IndexOf(start, StringComparison.Ordinal);
        Assert.True(from >= 0, $"'{start}' not in: {text}");
        from += start.Length;
        int to = text.IndexOf(end, from, StringComparison.Ordinal);
        return text[from..(to < 0 ? text.Length : to)].Trim();
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="args"/> in <paramref name="directory"/>; fails with its output unless it exits 0.</summary>
    private async Task<string> Run(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // Nothing of the test host's build may leak into the user's project.
        foreach (var name in new[] { "MSBuildSDKsPath", "MSBuildExtensionsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH" })
            start.Environment.Remove(name);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await process.WaitForExitAsync(timeout.Token);
        string text = await stdout + await stderr;
        output.WriteLine($"$ dotnet {string.Join(' ', args)} → {process.ExitCode}");
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} exited {process.ExitCode}:\n{text}");
        return text;
    }
}
