using System.Diagnostics;

namespace EdgeTL.Reliability.Tests.Harness;

/// <summary>
/// The solution's agent build without TorchSharp's native bridge (<c>libLibTorchSharp</c>): what an
/// inference-only device runs before libtorch is built for it. The folder is a hard-linked copy of
/// the build (<c>cp -al</c>, no bytes copied) next to this test assembly, on the build's file system,
/// with the bridge's files removed; libtorch then fails to load and the agent reports training unavailable.
/// </summary>
public static class AgentWithoutLibTorch
{
    private static readonly Lazy<string> Built = new(Build);

    /// <summary>Its <c>edgetl-agent.dll</c>.</summary>
    public static string AgentDll => Built.Value;

    private static string Build()
    {
        string source = Path.GetDirectoryName(RepoPaths.AgentDll)!;
        string target = Path.Combine(AppContext.BaseDirectory, "agent-without-libtorch");
        if (Directory.Exists(target))
            Directory.Delete(target, recursive: true);
        using (var copy = Process.Start(new ProcessStartInfo("cp", ["-al", source, target]) { RedirectStandardError = true })!)
        {
            string error = copy.StandardError.ReadToEnd();
            copy.WaitForExit();
            if (copy.ExitCode != 0)
                throw new InvalidOperationException($"cp -al {source} {target} failed: {error}");
        }
        var bridge = Directory.GetFiles(target, "*LibTorchSharp*", SearchOption.AllDirectories);
        if (bridge.Length == 0)
            throw new InvalidOperationException($"{source} has no LibTorchSharp native to leave out.");
        foreach (var file in bridge)
            File.Delete(file);
        return Path.Combine(target, Path.GetFileName(RepoPaths.AgentDll));
    }
}
