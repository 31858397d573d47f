namespace EdgeTL.Runtime.Data;

/// <summary>The bundled Fashion-MNIST subset (data/fashion-mnist): 6,000 train and 1,000 test images.</summary>
public static class FashionMnist
{
    /// <summary>Environment variable that points at a folder holding the four IDX files.</summary>
    public const string DataDirectoryVariable = "EDGETL_FASHION_MNIST";

    /// <summary>The ten class names, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Loads the training split.</summary>
    public static LabeledImageSet LoadTrain(string? directory = null) => Load("train", directory);

    /// <summary>Loads the test split.</summary>
    public static LabeledImageSet LoadTest(string? directory = null) => Load("t10k", directory);

    /// <summary>
    /// Finds the data folder: the given one, else <see cref="DataDirectoryVariable"/>, else
    /// <c>data/fashion-mnist</c> in the current directory or any parent of it or of the program.
    /// </summary>
    public static string LocateDirectory(string? directory = null)
    {
        if (!string.IsNullOrEmpty(directory))
            return directory;
        var fromEnvironment = Environment.GetEnvironmentVariable(DataDirectoryVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
            return fromEnvironment;
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "data", "fashion-mnist");
                if (File.Exists(Path.Combine(candidate, "train-images-idx3-ubyte.gz")))
                    return candidate;
            }
        }
        throw new EdgeRuntimeException(RuntimeErrorCode.DataNotFound,
            $"The bundled Fashion-MNIST data was not found: run from the repository, or set {DataDirectoryVariable}.");
    }

    private static LabeledImageSet Load(string split, string? directory)
    {
        var dir = LocateDirectory(directory);
        return IdxReader.ReadImageSet(
            Path.Combine(dir, $"{split}-images-idx3-ubyte.gz"),
            Path.Combine(dir, $"{split}-labels-idx1-ubyte.gz"),
            ClassNames);
    }
}
