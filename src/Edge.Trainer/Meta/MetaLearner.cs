using static TorchSharp.torch;

namespace EdgeTL.Trainer.Meta;

/// <summary>
/// Meta-trains the seed head on frozen features of the source classes (MAML, first-order MAML or
/// ANIL), so that a few SGD steps on K samples per class of new classes give a good classifier.
/// Each outer step draws <see cref="MetaLearningOptions.MetaBatch"/> episodes, adapts fast weights
/// on each support set for <see cref="MetaLearningOptions.InnerSteps"/> steps, and moves the
/// initialization (Adam) to lower the adapted weights' loss on the query sets. What the outer
/// loop learns is configurable; by default:
/// - the output layer starts every task at zero: episode labels are arbitrary permutations, so a
///   learned output layer can only encode a bias that each task must first unlearn (Ye and Chao,
///   "How to Train Your MAML to Excel in Few-Shot Classification", ICLR 2022);
/// - the step size of every inner step and layer is learned (MAML++'s LSLR);
/// - the hidden layer keeps its seeded initialization, because learning it from the five source
///   classes of the bundled data overfits them (see <see cref="MetaLearningOptions.LearnHiddenLayer"/>).
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
        int[] learned = [.. Enumerable.Range(0, 4).Where(k => IsMetaLearned(k, options))];
        using var logRates = new TorchSharp.Modules.Parameter(full(options.InnerSteps, 4, Math.Log(options.InnerLearningRate)), requires_grad: options.LearnInnerRates);
        var outer = learned.Length > 0 ? optim.Adam(learned.Select(k => (TorchSharp.Modules.Parameter)meta[k]), options.OuterLearningRate) : null;
        using var rateOptimizer = optim.Adam([logRates], options.InnerRateLearningRate);
        var sampler = new EpisodeSampler(labels, classes, options.Ways, options.Shots, options.Queries, options.Seed);
        var x = features.to(ScalarType.Float32);
        for (int iteration = 0; iteration < options.Iterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            outer?.zero_grad();
            rateOptimizer.zero_grad();
            double total = 0;
            for (int e = 0; e < options.MetaBatch; e++)
            {
                var episode = sampler.Next();
                var support = x.index_select(0, tensor(episode.SupportIndices));
                var query = x.index_select(0, tensor(episode.QueryIndices));
                var fast = Adapt(meta, support, tensor(episode.SupportLabels), options, training: true, logRates);
                var loss = nn.functional.cross_entropy(HeadWeights.Forward(query, fast), tensor(episode.QueryLabels)) / options.MetaBatch;
                if (options.Algorithm == MetaAlgorithm.FirstOrderMaml)
                {
                    // The query gradient at the adapted weights is applied to the initialization
                    // (the rates still get their exact gradient: the last step depends on them).
                    var grads = autograd.grad([loss], fast, retain_graph: options.LearnInnerRates);
                    foreach (int k in learned)
                        meta[k].grad = meta[k].grad is null ? grads[k].detach().clone() : meta[k].grad!.add_(grads[k]);
                    if (options.LearnInnerRates)
                        loss.backward();
                }
                else
                {
                    loss.backward();
                }
                total += loss.item<float>();
            }
            if (!double.IsFinite(total))
                throw new EdgeTrainerException(TrainerErrorCode.NonFiniteLoss, $"The meta-training query loss became {total} at iteration {iteration}.");
            outer?.step();
            if (options.LearnInnerRates)
                rateOptimizer.step();
            progress?.Report((iteration, total));
        }
        outer?.Dispose();
        var weights = meta.Select(w => w.detach().clone().DetachFromDisposeScope()).ToArray();
        foreach (var w in meta)
            w.Dispose();
        var rates = logRates.detach().exp().to(ScalarType.Float64).data<double>().ToArray();
        return new MetaInitialization(weights, options, [.. Enumerable.Range(0, options.InnerSteps).Select(s => rates[(s * 4)..((s + 1) * 4)])]);
    }

    /// <summary>
    /// The inner loop: SGD on the support set from <paramref name="start"/>. In training it keeps
    /// the graph for the outer gradient (second order for MAML and ANIL); ANIL adapts only the
    /// output layer. Step s moves layer tensor k by exp(<paramref name="logRates"/>[s, k]) times
    /// its gradient, or by the fixed inner rate when there are no learned rates. Returns the fast
    /// weights (W1, b1, W2, b2).
    /// </summary>
    internal static Tensor[] Adapt(IReadOnlyList<Tensor> start, Tensor support, Tensor labels, MetaLearningOptions options, bool training, Tensor? logRates = null)
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
        var rates = logRates?.exp();
        for (int step = 0; step < options.InnerSteps; step++)
        {
            var loss = nn.functional.cross_entropy(HeadWeights.Forward(support, fast), labels);
            var adapted = fast[first..];
            var grads = autograd.grad([loss], adapted, retain_graph: secondOrder, create_graph: secondOrder);
            for (int k = 0; k < adapted.Length; k++)
            {
                var next = rates is null ? adapted[k] - (options.InnerLearningRate * grads[k]) : adapted[k] - (rates[step, first + k] * grads[k]);
                // Learned rates keep their graph even in first-order MAML: that is how they get a gradient.
                fast[first + k] = secondOrder || (training && rates is not null) ? next : next.detach().requires_grad_(true);
            }
        }
        return fast;
    }

    /// <summary>Whether the outer loop moves weight tensor k (W1, b1, W2, b2).</summary>
    private static bool IsMetaLearned(int k, MetaLearningOptions options) => k < 2 ? options.LearnHiddenLayer : !options.ZeroOutputLayer;

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
            .Select((w, k) => (Tensor)new TorchSharp.Modules.Parameter(w.detach().clone().DetachFromDisposeScope(), requires_grad: IsMetaLearned(k, options)))];
    }
}
