using System.CommandLine;

namespace EdgeTL.Cloud;

/// <summary>Options several verbs share.</summary>
internal static class CommonOptions
{
    public static Option<string> Architecture() => new("--arch")
    {
        Description = "Architecture: resnet18, resnet34, resnet50, mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large.",
        DefaultValueFactory = _ => "resnet18",
    };

    public static Option<string> Classes(string name, string defaultValue) => new(name)
    {
        Description = "Classes, e.g. 0-4 or 0,2,4.",
        DefaultValueFactory = _ => defaultValue,
    };

    public static Option<int> InputSize() => new("--size")
    {
        Description = "Input side in pixels (≥ 32).",
        DefaultValueFactory = _ => 32,
    };

    public static Option<int> PretrainEpochs(string name) => new(name)
    {
        Description = "Pretraining epochs.",
        DefaultValueFactory = _ => 6,
    };

    public static Option<string> Checkpoint(string description) => new("--out", "--checkpoint")
    {
        Description = description,
        DefaultValueFactory = _ => Path.Combine("out", "pretrain", "backbone.bin"),
    };

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
