namespace EdgeTL.Agent.Tests.Resources;

/// <summary>A temporary folder tree that mimics /sys or /proc; deleted on dispose.</summary>
public sealed class SysfsTree : IDisposable
{
    public SysfsTree() => Root = Directory.CreateTempSubdirectory("edgetl-sysfs-").FullName;

    public string Root { get; }

    /// <summary>Writes <paramref name="content"/> (plus the newline sysfs ends with) at a path relative to the root.</summary>
    public string Write(string relativePath, string content)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content + "\n");
        return path;
    }

    /// <summary>Makes a folder where a file is expected, so reading it fails (works as root too).</summary>
    public void Unreadable(string relativePath) => Directory.CreateDirectory(Path.Combine(Root, relativePath));

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
