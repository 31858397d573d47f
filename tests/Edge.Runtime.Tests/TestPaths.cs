namespace EdgeTL.Runtime.Tests;

/// <summary>Where the repository is, for tests that read committed files or run the peer scripts.</summary>
internal static class TestPaths
{
    /// <summary>The folder holding EdgeTL.sln.</summary>
    public static string RepoRoot { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeTL.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("EdgeTL.sln not found above " + AppContext.BaseDirectory);
    }
}
