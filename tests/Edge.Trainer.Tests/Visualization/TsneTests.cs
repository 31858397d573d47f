using EdgeTL.Trainer.Visualization;

namespace EdgeTL.Trainer.Tests.Visualization;

public sealed class TsneTests
{
    [Fact]
    public void Tsne_keeps_neighbourhoods_of_separated_classes_and_is_deterministic()
    {
        var (points, _) = Clusters(classes: 5, perClass: 60, dims: 50, seed: 1);
        var options = new TsneOptions { Perplexity = 30, Seed = 4 };
        var embedding = Tsne.Embed(points, options);
        double trust = Trustworthiness.Compute(points, embedding, k: 10);
        Assert.True(trust >= 0.9, $"trustworthiness {trust:F3}");

        var again = Tsne.Embed(points, options);
        Assert.Equal(embedding.SelectMany(r => r), again.SelectMany(r => r));
    }

    [Fact]
    public void Trustworthiness_is_one_for_the_identity_and_low_for_a_shuffle()
    {
        var (points, _) = Clusters(classes: 3, perClass: 30, dims: 2, seed: 2);
        Assert.Equal(1.0, Trustworthiness.Compute(points, points, k: 5), 9);
        var random = new Random(3);
        var shuffled = points.OrderBy(_ => random.Next()).ToArray();
        Assert.True(Trustworthiness.Compute(points, shuffled, k: 5) < 0.7);
    }

    [Fact]
    public void Bad_input_gets_a_clear_error()
    {
        var (points, _) = Clusters(classes: 2, perClass: 10, dims: 3, seed: 5);
        Assert.Equal(TrainerErrorCode.InvalidConfiguration,
            Assert.Throws<EdgeTrainerException>(() => Tsne.Embed(points, new TsneOptions { Perplexity = 30 })).Code);
        Assert.Equal(TrainerErrorCode.InvalidConfiguration,
            Assert.Throws<EdgeTrainerException>(() => Tsne.Embed(points, new TsneOptions { Perplexity = 5, MaxExactPoints = 10 })).Code);
        var withNaN = points.Select(p => p.ToArray()).ToArray();
        withNaN[3][1] = double.NaN;
        Assert.Equal(TrainerErrorCode.InvalidInputShape,
            Assert.Throws<EdgeTrainerException>(() => Tsne.Embed(withNaN, new TsneOptions { Perplexity = 5 })).Code);
    }

    /// <summary>Gaussian clusters with well-separated centres.</summary>
    internal static (double[][] Points, int[] Labels) Clusters(int classes, int perClass, int dims, int seed)
    {
        var random = new Random(seed);
        double Gaussian() => Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var centres = Enumerable.Range(0, classes).Select(_ => Enumerable.Range(0, dims).Select(_ => 8 * Gaussian()).ToArray()).ToArray();
        var points = new List<double[]>();
        var labels = new List<int>();
        for (int c = 0; c < classes; c++)
        {
            for (int i = 0; i < perClass; i++)
            {
                points.Add(centres[c].Select(v => v + Gaussian()).ToArray());
                labels.Add(c);
            }
        }
        return ([.. points], [.. labels]);
    }
}
