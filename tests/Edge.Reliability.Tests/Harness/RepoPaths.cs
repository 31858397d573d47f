namespace EdgeTL.Reliability.Tests.Harness;

/// <summary>Where the built agent and crash target are, relative to this test assembly.</summary>
public static class RepoPaths
{
    /// <summary>The repository root (the folder with EdgeTL.sln).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Release or Debug: the configuration this test assembly was built in.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";

    /// <summary>The agent as built by the solution (its own output folder, with its deps.json and natives).</summary>
    public static string AgentDll => Built("src/Edge.Agent", "edgetl-agent.dll");

    /// <summary>The crash target (tests/Edge.CrashTarget).</summary>
    public static string CrashTargetDll => Built("tests/Edge.CrashTarget", "Edge.CrashTarget.dll");

    private static string Built(string project, string dll)
    {
        string path = Path.Combine(Root, project, "bin", Configuration, "net10.0", dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is not built: run `dotnet build EdgeTL.sln -c {Configuration}` first.", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeTL.sln")))
                return dir.FullName;
        }
        throw new DirectoryNotFoundException($"No EdgeTL.sln above {AppContext.BaseDirectory}.");
    }
}
