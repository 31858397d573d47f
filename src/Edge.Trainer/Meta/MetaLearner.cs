using static TorchSharp.torch;

namespace EdgeTL.Trainer.Meta;

/// <summary>
/// Meta-trains the seed head on frozen features of the source classes (MAML, first-order MAML or
/// ANIL), so that a few SGD steps on K samples per class of new classes give a good classifier.
/// Each outer step draws <see cref="MetaLearningOptions.MetaBatch"/> episodes, adapts fast weights
/// on each support set for <see cref="MetaLearningOptions.InnerSteps"/> steps, and moves the
/// initialization (Adam) to lower the adapted weights' loss on the query sets. By default the
/// output layer starts every task at zero and only the hidden layer is meta-learned: episode
/// labels are arbitrary permutations, so a learned output layer can only encode a bias that each
/// task must first unlearn (Ye and Chao, "How to Train Your MAML to Excel in Few-Shot
/// Classification", ICLR 2022, make the same point).
/// </summary>
public static class MetaLearner
{
    /// <summary>
    /// Trains an initialization from <paramref name="features"/> [n, d] with <paramref name="labels"/>,
    /// using only <paramref name="classes"/>.
    /// </summary>
    public static MetaInitialization Train(Tensor features, IReadOnlyList<int> labels, IReadOnlyList<int> classes, MetaLearningOptions options,
        IProgress<(int Iteration, double QueryLoss)>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (features.dim() != 2 || features.shape[0] != labels.Count)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape,
                $"Meta-training needs features [n, d] with one label per row; got [{string.Join(", ", features.shape)}] and {labels.Count} labels.");
        manual_seed(options.Seed);
        int d = (int)features.shape[1];
        var meta = Initial(d, options);
        int learned = options.ZeroOutputLayer ? 2 : 4;
        var outer = optim.Adam(meta.Take(learned).Select(w => (TorchSharp.Modules.Parameter)w), options.OuterLearningRate);
        var sampler = new EpisodeSampler(labels, classes, options.Ways, options.Shots, options.Queries, options.Seed);
        var x = features.to(ScalarType.Float32);
        for (int iteration = 0; iteration < options.Iterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            outer.zero_grad();
            double total = 0;
            for (int e = 0; e < options.MetaBatch; e++)
            {
                var episode = sampler.Next();
                var support = x.index_select(0, tensor(episode.SupportIndices));
                var query = x.index_select(0, tensor(episode.QueryIndices));
                var fast = Adapt(meta, support, tensor(episode.SupportLabels), options, training: true);
                var loss = nn.functional.cross_entropy(HeadWeights.Forward(query, fast), tensor(episode.QueryLabels)) / options.MetaBatch;
                if (options.Algorithm == MetaAlgorithm.FirstOrderMaml)
                {
                    // The query gradient at the adapted weights is applied to the initialization.
                    var grads = autograd.grad([loss], fast);
                    for (int k = 0; k < learned; k++)
                        meta[k].grad = meta[k].grad is null ? grads[k].detach().clone() : meta[k].grad!.add_(grads[k]);
                }
                else
                {
                    loss.backward();
                }
                total += loss.item<float>();
            }
            if (!double.IsFinite(total))
                throw new EdgeTrainerException(TrainerErrorCode.NonFiniteLoss, $"The meta-training query loss became {total} at iteration {iteration}.");
            outer.step();
            progress?.Report((iteration, total));
        }
        outer.Dispose();
        var weights = meta.Select(w => w.detach().clone().DetachFromDisposeScope()).ToArray();
        foreach (var w in meta)
            w.Dispose();
        return new MetaInitialization(weights, options);
    }

    /// <summary>
    /// The inner loop: SGD on the support set from <paramref name="start"/>. In training it keeps
    /// the graph for the outer gradient (second order for MAML and ANIL); ANIL adapts only the
    /// output layer. Returns the fast weights (W1, b1, W2, b2).
    /// </summary>
    internal static Tensor[] Adapt(IReadOnlyList<Tensor> start, Tensor support, Tensor labels, MetaLearningOptions options, bool training)
    {
        var fast = start.ToArray();
        bool anil = options.Algorithm == MetaAlgorithm.Anil;
        bool secondOrder = training && options.Algorithm != MetaAlgorithm.FirstOrderMaml;
        if (options.Algorithm == MetaAlgorithm.FirstOrderMaml && training)
            fast = [.. fast.Select(w => w.detach().requires_grad_(true))];
        int first = anil ? 2 : 0;
        // Adapted weights that are constants (a zero output layer) become leaves the inner loop can differentiate.
        for (int k = first; k < fast.Length; k++)
        {
            if (!fast[k].requires_grad)
                fast[k] = fast[k].detach().requires_grad_(true);
        }
        for (int step = 0; step < options.InnerSteps; step++)
        {
            var loss = nn.functional.cross_entropy(HeadWeights.Forward(support, fast), labels);
            var adapted = fast[first..];
            var grads = autograd.grad([loss], adapted, retain_graph: secondOrder, create_graph: secondOrder);
            for (int k = 0; k < adapted.Length; k++)
            {
                var next = adapted[k] - (options.InnerLearningRate * grads[k]);
                fast[first + k] = secondOrder ? next : next.detach().requires_grad_(true);
            }
        }
        return fast;
    }

    /// <summary>W1, b1 (PyTorch's Linear initialization), then W2, b2: zeros when the output layer starts at zero, else initialized too.</summary>
    private static Tensor[] Initial(int d, MetaLearningOptions options)
    {
        using var hidden = nn.Linear(d, options.Hidden);
        using var output = nn.Linear(options.Hidden, options.Ways);
        if (options.ZeroOutputLayer)
        {
            using var noGrad = no_grad();
            output.weight!.zero_();
            output.bias!.zero_();
        }
        return [.. new[] { hidden.weight!, hidden.bias!, output.weight!, output.bias! }
            .Select((w, k) => (Tensor)new TorchSharp.Modules.Parameter(w.detach().clone().DetachFromDisposeScope(), requires_grad: k < 2 || !options.ZeroOutputLayer))];
    }
}
