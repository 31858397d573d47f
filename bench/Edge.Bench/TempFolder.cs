namespace EdgeTL.Bench;

/// <summary>A temporary folder, deleted with its contents when disposed.</summary>
internal sealed class TempFolder(string prefix) : IDisposable
{
    /// <summary>The folder.</summary>
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>Deletes the folder (best effort).</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // a child process may still be closing a file; /tmp is cleaned by the OS
        }
    }
}
