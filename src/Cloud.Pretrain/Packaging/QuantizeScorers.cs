using System.Globalization;
using EdgeTL.Runtime;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Onnx;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Runtime.Preprocessing;

namespace EdgeTL.Cloud;

/// <summary>What <c>quantize</c> scores each backbone with: the fp32 backbone, its preprocessing, and held-out labelled images.</summary>
internal interface IQuantizeScorer : IDisposable
{
    /// <summary>What is quantized, for people.</summary>
    string Name { get; }

    /// <summary>The package or import folder, as a full path.</summary>
    string Source { get; }

    /// <summary>How an image becomes the backbone's input.</summary>
    ImagePipeline Pipeline { get; }

    /// <summary>The folder of scored images.</summary>
    string ScoredFolder { get; }

    /// <summary>How accuracy is scored, for people (starts with a separator, or is empty).</summary>
    string How { get; }

    /// <summary>The scored images: calibration must not use them.</summary>
    IReadOnlyList<(string File, int Label)> ScoredFiles { get; }

    /// <summary>The fp32 backbone (ONNX bytes).</summary>
    byte[] Fp32Backbone { get; }

    /// <summary>Held-out accuracy of <paramref name="backbone"/>, images scored, and (headless scoring only) the mean cosine of its features to the first backbone scored.</summary>
    (double Accuracy, int Scored, double? FeatureCosine) Score(OnnxModel backbone, CancellationToken cancellationToken);
}

/// <summary>A signed package, scored through its own head as a device runs it.</summary>
internal sealed class PackageScorer : IQuantizeScorer
{
    private readonly ScoredPackage _package;

    private PackageScorer(ScoredPackage package, string source, string data)
    {
        _package = package;
        Source = source;
        Pipeline = package.Installed.Manifest.Input.ToPipeline();
        ScoredFolder = EvaluateCommand.ScoredFolder(data);
        ScoredFiles = EvaluateCommand.LabelledFiles(ScoredFolder, package.Installed.Manifest.Labels);
        Fp32Backbone = File.ReadAllBytes(package.Installed.PathOf(PackageFileRoles.Backbone)!);
    }

    public string Name => $"{_package.Installed.Manifest.Name} {_package.Installed.Manifest.Version}";

    public string Source { get; }

    public ImagePipeline Pipeline { get; }

    public string ScoredFolder { get; }

    public string How => "";

    public IReadOnlyList<(string File, int Label)> ScoredFiles { get; }

    public byte[] Fp32Backbone { get; }

    public static PackageScorer Open(string package, string trusted, string data, CancellationToken cancellationToken)
    {
        var opened = ScoredPackage.Open(package, trusted, "quantize");
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            return new PackageScorer(opened, Path.GetFullPath(package), data);
        }
        catch
        {
            opened.Dispose();
            throw;
        }
    }

    public (double Accuracy, int Scored, double? FeatureCosine) Score(OnnxModel backbone, CancellationToken cancellationToken)
    {
        var manifest = _package.Installed.Manifest;
        var predictor = new Predictor(new FeatureExtractor(backbone, Pipeline), _package.Served.Head!, manifest.Labels);
        var (accuracy, scored) = QuantizeCommand.Accuracy(predictor, ScoredFolder, [.. ScoredFiles], cancellationToken);
        return (accuracy, scored, null);
    }

    public void Dispose() => _package.Dispose();
}

/// <summary>
/// An import folder's backbone, headless: class centroids of its features on <c>train/</c>, and each <c>val/</c> image given the class
/// of the nearest centroid (cosine). The first backbone scored (fp32) is the reference of the features' cosine.
/// </summary>
internal sealed class CentroidScorer : IQuantizeScorer
{
    private readonly List<(string File, int Label)> _train;
    private readonly int _classes;
    private float[]? _reference;

    private CentroidScorer(string folder, ImagePipeline pipeline, string data, List<string> labels)
    {
        Source = Path.GetFullPath(folder);
        Pipeline = pipeline;
        _classes = labels.Count;
        _train = EvaluateCommand.LabelledFiles(Path.Combine(data, "train"), labels);
        ScoredFolder = Path.GetFullPath(Path.Combine(data, "val"));
        ScoredFiles = EvaluateCommand.LabelledFiles(ScoredFolder, labels);
        Fp32Backbone = File.ReadAllBytes(Path.Combine(folder, "backbone.onnx"));
    }

    public string Name => $"import {Path.GetFileName(Source)}";

    public string Source { get; }

    public ImagePipeline Pipeline { get; }

    public string ScoredFolder { get; }

    public string How => $" (headless: nearest class centroid of {_train.Count} train/ images)";

    public IReadOnlyList<(string File, int Label)> ScoredFiles { get; }

    public byte[] Fp32Backbone { get; }

    public static CentroidScorer Open(string folder, int size, string data, CancellationToken cancellationToken)
    {
        var import = ImportFolder.Read(folder);
        if (!Directory.Exists(Path.Combine(data, "train")) || !Directory.Exists(Path.Combine(data, "val")))
            throw CloudCliException.InvalidArguments($"--from scores a backbone without a head: --data '{data}' needs train/ (for the class centroids) and val/ (scored).");
        var labels = Directory.GetDirectories(Path.Combine(data, "train")).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToList();
        var pipeline = new ImagePipeline(new ImagePipelineOptions { InputSize = import.FixedInputSize ?? size, Normalization = ImportFolder.Normalization(import.Pixels) });
        cancellationToken.ThrowIfCancellationRequested();
        return new CentroidScorer(folder, pipeline, data, labels);
    }

    public (double Accuracy, int Scored, double? FeatureCosine) Score(OnnxModel backbone, CancellationToken cancellationToken)
    {
        var extractor = new FeatureExtractor(backbone, Pipeline);
        int dim = extractor.FeatureDim;
        var centroids = new double[_classes * dim];
        var train = Features(extractor, _train, cancellationToken);
        for (int i = 0; i < _train.Count; i++)
        {
            for (int k = 0; k < dim; k++)
                centroids[(_train[i].Label * dim) + k] += train[(i * dim) + k];
        }
        for (int c = 0; c < _classes; c++)
            Normalize(centroids.AsSpan(c * dim, dim));
        var scored = Features(extractor, [.. ScoredFiles], cancellationToken);
        int correct = 0;
        for (int i = 0; i < ScoredFiles.Count; i++)
        {
            var row = scored.AsSpan(i * dim, dim);
            int best = 0;
            double bestScore = double.NegativeInfinity;
            for (int c = 0; c < _classes; c++)
            {
                double score = Dot(centroids.AsSpan(c * dim, dim), row);
                if (score > bestScore)
                    (best, bestScore) = (c, score);
            }
            correct += best == ScoredFiles[i].Label ? 1 : 0;
        }
        _reference ??= scored;
        double cosine = Enumerable.Range(0, ScoredFiles.Count).Average(i => Cosine(_reference.AsSpan(i * dim, dim), scored.AsSpan(i * dim, dim)));
        return ((double)correct / ScoredFiles.Count, ScoredFiles.Count, cosine);
    }

    public void Dispose()
    {
    }

    private static float[] Features(FeatureExtractor extractor, List<(string File, int Label)> files, CancellationToken cancellationToken)
    {
        var all = new List<float>(files.Count * extractor.FeatureDim);
        foreach (var chunk in files.Chunk(32))
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                all.AddRange(extractor.ExtractEncoded([.. chunk.Select(f => File.ReadAllBytes(f.File))]));
            }
            catch (EdgeRuntimeException e) when (e.Code == RuntimeErrorCode.UndecodableImage)
            {
                throw new CloudCliException(ExitCodes.DataError, string.Create(CultureInfo.InvariantCulture,
                    $"An image among {chunk[0].File} … {chunk[^1].File} does not decode: {e.Message}"));
            }
        }
        return [.. all];
    }

    private static void Normalize(Span<double> v)
    {
        double norm = Math.Sqrt(Dot(v, v));
        if (norm > 0)
        {
            for (int k = 0; k < v.Length; k++)
                v[k] /= norm;
        }
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double sum = 0;
        for (int k = 0; k < a.Length; k++)
            sum += a[k] * b[k];
        return sum;
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int k = 0; k < a.Length; k++)
            sum += a[k] * b[k];
        return sum;
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double ab = 0, aa = 0, bb = 0;
        for (int k = 0; k < a.Length; k++)
        {
            ab += a[k] * b[k];
            aa += a[k] * a[k];
            bb += b[k] * b[k];
        }
        return aa > 0 && bb > 0 ? ab / Math.Sqrt(aa * bb) : 0;
    }
}
