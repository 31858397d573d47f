using EdgeTL.Agent.Learning;
using Xunit.Abstractions;

namespace EdgeTL.Agent.Tests.Learning;

/// <summary>
/// The guard on real heads (TorchSharp, the agent's own head fit) over 20 seeds: a head trained on
/// shuffled labels is never promoted over one trained on the true labels, and the reverse is.
/// Features are four well-separated Gaussian classes; ids 1–200 split by the fixed holdout (50 held out).
/// </summary>
public sealed class ShuffledLabelHeadGuardTests(ITestOutputHelper output)
{
    private static readonly PromotionGuard Guard = new(minHoldout: 20, tolerance: 0.02);
    private static readonly FinetuneSettings Fit = new() { Epochs = 10 };

    [Fact]
    public void A_head_trained_on_shuffled_labels_is_never_promoted_and_the_true_head_over_it_nearly_always_is()
    {
        int shuffledPromoted = 0, truePromoted = 0;
        var margins = new List<double>();
        for (int seed = 0; seed < 20; seed++)
        {
            var (train, holdout) = Clusters(new Random(seed), 200).SplitByHoldout();
            var labels = (int[])train.Labels.Clone();
            new Random(100 + seed).Shuffle(labels);
            var settings = Fit with { Seed = seed };
            using var trueHead = HeadFitting.Fit(train, settings).Head;
            using var shuffledHead = HeadFitting.Fit(train with { Labels = labels }, settings).Head;
            var trueCorrect = CandidateScoring.Correct(trueHead, holdout);
            var shuffledCorrect = CandidateScoring.Correct(shuffledHead, holdout);

            var worse = Guard.Decide(shuffledCorrect, trueCorrect);
            var better = Guard.Decide(trueCorrect, shuffledCorrect);

            Assert.Equal(50, worse.N);
            shuffledPromoted += worse.Promoted ? 1 : 0;
            truePromoted += better.Promoted ? 1 : 0;
            margins.Add(worse.CandidateAccuracy!.Value - worse.ServingAccuracy!.Value);
        }
        output.WriteLine($"shuffled-label head over the true head: promoted {shuffledPromoted} of 20 seeds (candidate − serving accuracy "
            + $"{margins.Average() * 100:F1} pts on average, {margins.Max() * 100:F1} at its best); true head over the shuffled one: promoted {truePromoted} of 20");
        Assert.Equal(0, shuffledPromoted);
        Assert.True(truePromoted >= 18, $"promoted {truePromoted} of 20");
    }

    /// <summary>Four classes in 16 dimensions, centres 3 σ apart per axis on average, ids 1…count.</summary>
    private static LabelledFeatures Clusters(Random random, int count)
    {
        const int dim = 16, classes = 4;
        var centres = Enumerable.Range(0, classes).Select(_ => Enumerable.Range(0, dim).Select(_ => 1.5 * Gaussian(random)).ToArray()).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => i % classes).ToArray();
        var features = labels.SelectMany(l => centres[l].Select(c => (float)(c + Gaussian(random)))).ToArray();
        return new LabelledFeatures(features, labels, dim, ["a", "b", "c", "d"], [.. Enumerable.Range(1, count).Select(i => (long)i)]);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
