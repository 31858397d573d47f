using System.CommandLine;

namespace EdgeTL.Cloud;

/// <summary>Options several verbs share.</summary>
internal static class CommonOptions
{
    public static Option<string?> Data() => new("--data")
    {
        Description = "Folder with Fashion-MNIST IDX files (default: the bundled data/fashion-mnist).",
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print the result as JSON (for machines) instead of text.",
    };

    public static Option<int> Threads() => new("--threads")
    {
        Description = "CPU threads for libtorch (default: all cores).",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public static Option<int> Seed() => new("--seed")
    {
        Description = "Seed of initialization, sampling, shuffling and augmentation.",
        DefaultValueFactory = _ => 0,
    };
}
