using EdgeTL.Trainer.Meta;
using EdgeTL.Trainer.Tests.Interop;
using Xunit.Abstractions;
using static TorchSharp.torch;

using EdgeTL.Trainer.Training;

namespace EdgeTL.Trainer.Tests.Meta;

/// <summary>
/// Meta-learning for cold start on real data: ImageNet ResNet-18 features (ML.NET's ONNX file,
/// frozen) of Fashion-MNIST, meta-training on classes 0–4 (T-shirt, trouser, pullover, dress, coat);
/// classes 5–9 are held out.
/// </summary>
public sealed class ColdStartTests(ITestOutputHelper output)
{
    private static readonly int[] SourceClasses = [0, 1, 2, 3, 4];

    [Fact]
    public void Maml_outer_gradient_is_second_order_and_matches_finite_differences()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var options = new MetaLearningOptions { Algorithm = MetaAlgorithm.Maml, InnerSteps = 2, InnerLearningRate = 0.5, Ways = 2, Hidden = 4, ZeroOutputLayer = false };
        var support = randn(6, 3, ScalarType.Float64);
        var supportLabels = tensor(new long[] { 0, 1, 0, 1, 0, 1 });
        var query = randn(6, 3, ScalarType.Float64);
        var queryLabels = tensor(new long[] { 1, 0, 1, 0, 1, 1 });
        Tensor[] theta = [.. new[] { randn(4, 3), randn(4), randn(2, 4), randn(2) }.Select(t => t.to(ScalarType.Float64).requires_grad_(true))];
        double MetaLoss(Tensor[] start, bool training) =>
            nn.functional.cross_entropy(HeadWeights.Forward(query, MetaLearner.Adapt(start, support, supportLabels, options, training)), queryLabels).item<double>();

        var loss = nn.functional.cross_entropy(HeadWeights.Forward(query, MetaLearner.Adapt(theta, support, supportLabels, options, training: true)), queryLabels);
        var analytic = autograd.grad([loss], theta);
        const double h = 1e-6;
        foreach (var (k, i) in new[] { (0, 0L), (0, 7L), (1, 2L), (2, 5L), (3, 1L) })
        {
            Tensor[] plus = [.. theta.Select(t => t.detach().clone())];
            Tensor[] minus = [.. theta.Select(t => t.detach().clone())];
            plus[k].view(-1)[i] += h;
            minus[k].view(-1)[i] -= h;
            Tensor[] Leaves(Tensor[] w) => [.. w.Select(t => t.requires_grad_(true))];
            double numeric = (MetaLoss(Leaves(plus), training: false) - MetaLoss(Leaves(minus), training: false)) / (2 * h);
            double exact = analytic[k].view(-1)[i].item<double>();
            Assert.True(Math.Abs(numeric - exact) < 1e-6 * Math.Max(1, Math.Abs(numeric)), $"weight {k}[{i}]: autograd {exact}, finite difference {numeric}");
        }

        // First-order MAML drops the second-order terms: its gradient is a different vector.
        var firstOrder = options with { Algorithm = MetaAlgorithm.FirstOrderMaml };
        var fast = MetaLearner.Adapt(theta, support, supportLabels, firstOrder, training: true);
        var foGrad = autograd.grad([nn.functional.cross_entropy(HeadWeights.Forward(query, fast), queryLabels)], fast);
        Assert.True((foGrad[0] - analytic[0]).abs().max().item<double>() > 1e-4);
    }

    [Fact]
    public void Meta_training_on_source_classes_lowers_the_adapted_query_loss_and_ships_as_a_seed_head()
    {
        using var scope = NewDisposeScope();
        var (metaFeatures, metaLabels) = Pools.Value;
        var options = new MetaLearningOptions { Algorithm = MetaAlgorithm.Anil, InnerSteps = 10, InnerLearningRate = 0.03, OuterLearningRate = 1e-4, Iterations = 150, Seed = 3, LearnHiddenLayer = true };
        var losses = new List<double>();
        using var init = MetaLearner.Train(metaFeatures, metaLabels, [0, 1, 2, 3, 4], options, new SyncProgress<(int Iteration, double QueryLoss)>(p => losses.Add(p.QueryLoss)));
        double first = losses.Take(10).Average(), last = losses.TakeLast(10).Average();
        output.WriteLine($"ANIL meta-training on classes 0–4: query loss after 10 inner steps {first:F3} → {last:F3}");
        Assert.True(last < 0.6 * first, $"query loss {first:F3} → {last:F3}");

        // What a package ships: the seed head's state dict, which reproduces the functional head.
        using var head = init.CreateHead();
        head.eval();
        var x = metaFeatures[..8];
        Assert.True(head.forward(x).allclose(HeadWeights.Forward(x, init.Weights), rtol: 1e-5, atol: 1e-5));
        var state = init.StateDict();
        Assert.Equal(["0.weight", "0.bias", "3.weight", "3.bias"], state.Keys.ToArray());
        Assert.Equal([512L, 512L], state["0.weight"].shape);
        Assert.Equal(0, state["3.weight"].abs().sum().item<float>());   // the output layer starts every task at zero
    }

    [Fact]
    public void Cold_start_after_ten_steps_beats_a_zero_head_at_ten_and_matches_it_at_one_hundred()
    {
        using var scope = NewDisposeScope();
        var (metaFeatures, metaLabels) = Pools.Value;
        const double rate = 0.003;
        var options = new MetaLearningOptions { Algorithm = MetaAlgorithm.Anil, InnerSteps = 10, InnerLearningRate = rate, Iterations = 300, Seed = 3 };
        using var init = MetaLearner.Train(metaFeatures, metaLabels, SourceClasses, options);

        // 5-way 5-shot episodes of the held-out classes 5–9 (labels 0–4 after selection), 15 queries per class.
        var heldOut = TestData.Train.SelectClasses([5, 6, 7, 8, 9]).SamplePerClass(40, seed: 1);
        using var heldOutFeatures = ImageNetFeatures.Extract(heldOut);
        var sampler = new EpisodeSampler(heldOut.Labels, [0, 1, 2, 3, 4], ways: 5, shots: 5, queries: 15, seed: 11);
        const int episodes = 30;
        double meta10 = 0, zero10 = 0, zero100 = 0, zero10AtTenfoldRate = 0;
        for (int e = 0; e < episodes; e++)
        {
            using var episodeScope = NewDisposeScope();
            var episode = sampler.Next();
            var support = heldOutFeatures.Features.index_select(0, tensor(episode.SupportIndices));
            var supportLabels = tensor(episode.SupportLabels);
            var query = heldOutFeatures.Features.index_select(0, tensor(episode.QueryIndices));
            var queryLabels = tensor(episode.QueryLabels);
            double Zero(int steps, double stepRate)
            {
                using var head = FewShotAdaptation.Adapt(FewShotAdaptation.ZeroInitializedHead(512, 5, seed: e), support, supportLabels, steps, stepRate);
                return FewShotAdaptation.Accuracy(head, query, queryLabels) / episodes;
            }
            using (var adapted = init.Adapt(support, supportLabels))
                meta10 += FewShotAdaptation.Accuracy(adapted, query, queryLabels) / episodes;
            zero10 += Zero(10, rate);
            zero100 += Zero(100, rate);
            zero10AtTenfoldRate += Zero(10, 10 * rate);
        }
        output.WriteLine($"5-way 5-shot on held-out classes, mean of {episodes} episodes, SGD at {rate}:");
        output.WriteLine($"  ANIL-initialized head, 10 steps (learned rates):  {100 * meta10:F1} %");
        output.WriteLine($"  zero-initialized head, 10 steps:                  {100 * zero10:F1} %");
        output.WriteLine($"  zero-initialized head, 100 steps:                 {100 * zero100:F1} %");
        output.WriteLine($"  zero-initialized head, 10 steps at 10× the rate:  {100 * zero10AtTenfoldRate:F1} %");
        output.WriteLine($"  learned output-layer rates per step: {string.Join(" ", init.InnerRates.Select(r => r[2].ToString("G2", System.Globalization.CultureInfo.InvariantCulture)))}");
        Assert.True(meta10 >= zero10 + 0.05, $"meta-initialized {meta10:P1} must beat zero-initialized {zero10:P1} at 10 steps by ≥ 5 points");
        Assert.True(meta10 >= zero100 - 0.01, $"meta-initialized {meta10:P1} at 10 steps must come within 1 point of zero-initialized {zero100:P1} at 100 steps");
    }

    [Fact]
    public void Episodes_are_n_way_k_shot_without_overlap_and_reproducible()
    {
        int[] labels = [.. Enumerable.Range(0, 200).Select(i => i % 10)];
        var a = new EpisodeSampler(labels, [5, 6, 7, 8, 9], ways: 3, shots: 2, queries: 4, seed: 7);
        var b = new EpisodeSampler(labels, [5, 6, 7, 8, 9], ways: 3, shots: 2, queries: 4, seed: 7);
        for (int i = 0; i < 10; i++)
        {
            var e = a.Next();
            Assert.Equal(e, b.Next(), EpisodeComparer.Instance);
            Assert.Equal(3, e.Classes.Distinct().Count());
            Assert.All(e.Classes, c => Assert.InRange(c, 5, 9));
            Assert.Equal(6, e.SupportIndices.Length);
            Assert.Equal(12, e.QueryIndices.Length);
            Assert.Empty(e.SupportIndices.Intersect(e.QueryIndices));
            for (int k = 0; k < e.SupportIndices.Length; k++)
                Assert.Equal(e.Classes[e.SupportLabels[k]], labels[e.SupportIndices[k]]);
            for (int k = 0; k < e.QueryIndices.Length; k++)
                Assert.Equal(e.Classes[e.QueryLabels[k]], labels[e.QueryIndices[k]]);
        }
        Assert.Throws<EdgeTrainerException>(() => new EpisodeSampler(labels, [1, 2], ways: 3, shots: 1, queries: 1, seed: 0));
        Assert.Throws<EdgeTrainerException>(() => new EpisodeSampler(labels, [1, 2, 3], ways: 3, shots: 15, queries: 10, seed: 0));
    }

    /// <summary>Features of 60 training images of each source class, extracted once.</summary>
    private static readonly Lazy<(Tensor Features, int[] Labels)> Pools = new(() =>
    {
        var meta = TestData.Train.SelectClasses(SourceClasses).SamplePerClass(60, seed: 0);
        using var features = ImageNetFeatures.Extract(meta);
        return (features.Features.detach().clone().DetachFromDisposeScope(), meta.Labels);
    });

    private sealed class EpisodeComparer : IEqualityComparer<Episode>
    {
        public static EpisodeComparer Instance { get; } = new();

        public bool Equals(Episode? x, Episode? y) =>
            x!.Classes.SequenceEqual(y!.Classes) && x.SupportIndices.SequenceEqual(y.SupportIndices) && x.QueryIndices.SequenceEqual(y.QueryIndices)
            && x.SupportLabels.SequenceEqual(y.SupportLabels) && x.QueryLabels.SequenceEqual(y.QueryLabels);

        public int GetHashCode(Episode obj) => obj.Classes.Length;
    }
}
