namespace EdgeTL.Reliability.Tests.Harness;

/// <summary>A temporary folder, deleted with everything in it when disposed.</summary>
public sealed class TempDirectory(string prefix) : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still be closing a file; the OS cleans /tmp.
        }
    }
}
