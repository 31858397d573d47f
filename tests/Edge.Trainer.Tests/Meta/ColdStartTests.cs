using EdgeTL.Trainer.Meta;
using EdgeTL.Trainer.Tests.Interop;
using Xunit.Abstractions;
using static TorchSharp.torch;

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
        var options = new MetaLearningOptions { Algorithm = MetaAlgorithm.Anil, InnerSteps = 10, InnerLearningRate = 0.03, OuterLearningRate = 1e-4, Iterations = 150, Seed = 3 };
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
