namespace EdgeTL.Agent.Tests.Sources;

/// <summary>The repository's committed test data (data/photos, data/fashion-mnist).</summary>
internal static class RepoData
{
    public static string Root { get; } = Find();

    public static string Photo(string name) => Path.Combine(Root, "data", "photos", name);

    public static IReadOnlyList<byte[]> Photos { get; } =
        new[] { "astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg" }.Select(n => File.ReadAllBytes(Photo(n))).ToArray();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "data", "photos", "chelsea.jpg")))
                return dir.FullName;
        }
        throw new InvalidOperationException("data/photos not found above " + AppContext.BaseDirectory);
    }
}
