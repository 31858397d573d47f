using System.Globalization;
using EdgeTL.Runtime.Packaging;

namespace EdgeTL.Cloud;

/// <summary>A package as <c>package</c>, <c>sign</c> and <c>verify</c> report it.</summary>
/// <param name="Path">The package file or folder.</param>
/// <param name="Name">Model name.</param>
/// <param name="Architecture">Backbone architecture.</param>
/// <param name="Version">Version string.</param>
/// <param name="Counter">Monotonic counter.</param>
/// <param name="KeyId">Id of the key that signed it.</param>
/// <param name="Labels">Class labels.</param>
/// <param name="InputSize">Input side.</param>
/// <param name="Files">Files with their role, size and SHA-256.</param>
internal sealed record PackageSummary(string Path, string Name, string Architecture, string Version, long Counter, string KeyId,
    IReadOnlyList<string> Labels, int InputSize, IReadOnlyList<PackageFile> Files)
{
    /// <summary>The summary of <paramref name="manifest"/> signed by <paramref name="keyId"/>.</summary>
    public static PackageSummary From(string path, ModelManifest manifest, string keyId)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return new(path, manifest.Name, manifest.Architecture, manifest.Version, manifest.Counter, keyId, manifest.Labels, manifest.Input.Size, manifest.Files);
    }

    /// <summary>Prints it for people.</summary>
    public static void Print(PackageSummary s, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(output);
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(c, $"{s.Path}: {s.Name} {s.Version} (counter {s.Counter}), {s.Architecture} at {s.InputSize}×{s.InputSize}, {s.Labels.Count} classes"));
        output.WriteLine($"  signed by {s.KeyId}");
        foreach (var f in s.Files)
            output.WriteLine(string.Create(c, $"  {f.Path,-24} {f.Role,-14} {f.Size,12:N0} bytes  sha256 {f.Sha256[..16]}…"));
    }
}
