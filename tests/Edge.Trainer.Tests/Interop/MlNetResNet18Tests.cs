using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Interop.Onnx;

namespace EdgeTL.Trainer.Tests.Interop;

/// <summary>The public entry point to ML.NET's ImageNet ResNet-18: where its files are, and the pixels it takes.</summary>
public sealed class MlNetResNet18Tests
{
    [Fact]
    public void A_folder_without_the_files_is_a_clear_error_that_says_how_to_get_them()
    {
        string empty = Directory.CreateTempSubdirectory("edgetl-no-models-").FullName;
        try
        {
            var error = Assert.Throws<EdgeTrainerException>(() => MlNetResNet18.FindModelsDirectory(empty));
            Assert.Contains(empty, error.Message, StringComparison.Ordinal);
            Assert.Contains("PackageDownload", error.Message, StringComparison.Ordinal);
            Assert.Contains(MlNetResNet18.DirectoryVariable, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public void The_entry_point_extracts_features_of_the_real_photos_that_match_the_chained_graph_and_separate_them()
    {
        using var model = MlNetResNet18.LoadForInference(ImageNetOnnx.ModelsDirectory, ImageNetOnnx.SharedMachine);
        var extractor = new FeatureExtractor(model, new ImagePipeline(MlNetResNet18.PipelineOptions));
        Assert.Equal(MlNetResNet18.FeatureDim, extractor.FeatureDim);
        var photos = Directory.GetFiles(Path.Combine(PeerFixtures.RepoRoot, "data", "photos"), "*.jpg").Order(StringComparer.Ordinal).ToArray();
        var features = extractor.ExtractEncoded([.. photos.Select(File.ReadAllBytes)]);
        Assert.Equal(photos.Length * MlNetResNet18.FeatureDim, features.Length);
        Assert.All(features, f => Assert.True(float.IsFinite(f) && f >= 0));   // after the final ReLU and pooling

        // The raw-pixel pipeline feeds the graph what it expects. The default mean/std pipeline gives it
        // values near 0, which its mean-image subtraction turns into nearly the same dark image for every
        // photo: the four photos' features then sit far closer together (measured: 2.5× closer).
        var wrong = new FeatureExtractor(model, new ImagePipeline(new ImagePipelineOptions { InputSize = MlNetResNet18.InputSize }));
        var squashed = wrong.ExtractEncoded([.. photos.Select(File.ReadAllBytes)]);
        Assert.True(Spread(features) > 2 * Spread(squashed), $"spread with raw pixels {Spread(features):F3}, with mean/std {Spread(squashed):F3}");
    }

    /// <summary>Mean distance of each photo's features from the first photo's.</summary>
    private static double Spread(float[] features)
    {
        int d = MlNetResNet18.FeatureDim, n = features.Length / d;
        double total = 0;
        for (int i = 1; i < n; i++)
            total += Math.Sqrt(Enumerable.Range(0, d).Sum(k => Math.Pow(features[i * d + k] - features[k], 2)));
        return total / (n - 1);
    }
}
