using System.Reflection;
using System.Text.Json;

namespace EdgeTL.Runtime.Tests;

public sealed class DependencyTests
{
    /// <summary>
    /// An inference-only device ships Edge.Runtime without libtorch: neither its assembly
    /// references (followed transitively) nor its NuGet graph may contain TorchSharp.
    /// </summary>
    [Fact]
    public void Edge_Runtime_does_not_depend_on_TorchSharp_directly_or_transitively()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<AssemblyName>([typeof(EdgeRuntimeException).Assembly.GetName()]);
        while (pending.Count > 0)
        {
            var name = pending.Dequeue();
            if (!seen.Add(name.Name!))
                continue;
            Assert.False(name.Name!.Contains("TorchSharp", StringComparison.OrdinalIgnoreCase), $"Edge.Runtime reaches {name.Name}");
            Assembly assembly;
            try
            {
                assembly = Assembly.Load(name);
            }
            catch (FileNotFoundException)
            {
                continue;   // a framework facade that is not present as a file
            }
            foreach (var reference in assembly.GetReferencedAssemblies())
                pending.Enqueue(reference);
        }
        Assert.Contains("Microsoft.ML.OnnxRuntime", seen);

        // The restore graph of the project itself: no TorchSharp or libtorch package at any depth.
        string assets = Path.Combine(TestPaths.RepoRoot, "src", "Edge.Runtime", "obj", "project.assets.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(assets));
        var packages = doc.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains(packages, p => p.StartsWith("Microsoft.ML.OnnxRuntime", StringComparison.Ordinal));
        Assert.DoesNotContain(packages, p => p.Contains("torch", StringComparison.OrdinalIgnoreCase));
    }
}
