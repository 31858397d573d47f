using EdgeTL.Trainer.Models;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Meta;

/// <summary>
/// Cold-start personalization: a few full-batch SGD steps of a head on the K labelled samples per
/// class a new deployment has, with dropout off. The same procedure adapts a meta-learned head
/// (with the rate and steps it was meta-trained for) and a new one, so they compare fairly.
/// </summary>
public static class FewShotAdaptation
{
    /// <summary>
    /// Adapts <paramref name="head"/> in place on <paramref name="support"/> [n, d] with
    /// <paramref name="labels"/> [n] for <paramref name="steps"/> SGD steps at <paramref name="learningRate"/>;
    /// only the output layer moves when <paramref name="outputLayerOnly"/> (ANIL). Returns the head.
    /// </summary>
    public static HeadModel Adapt(HeadModel head, Tensor support, Tensor labels, int steps, double learningRate, bool outputLayerOnly = false)
    {
        if (steps < 0 || !(learningRate > 0))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"Adaptation needs steps ≥ 0 and a positive rate (got {steps}, {learningRate}).");
        return Adapt(head, support, labels, [.. Enumerable.Repeat(new[] { learningRate, learningRate, learningRate, learningRate }, steps)], outputLayerOnly);
    }

    /// <summary>
    /// Adapts <paramref name="head"/> in place with one SGD step per row of <paramref name="rates"/>,
    /// whose four columns are the step sizes of W1, b1, W2 and b2 (a meta-learned schedule).
    /// </summary>
    public static HeadModel Adapt(HeadModel head, Tensor support, Tensor labels, IReadOnlyList<double[]> rates, bool outputLayerOnly = false)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(support);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(rates);
        if (rates.Any(r => r.Length != 4 || r.Any(v => !(v > 0) || !double.IsFinite(v))))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, "Each adaptation step needs four positive finite rates (W1, b1, W2, b2).");
        InputGuard.RequireFeatures(support, head.FeatureDim);
        InputGuard.RequireLabels(labels, head.ClassCount);
        var (hidden, output) = HeadWeights.Layers(head.Head);
        Tensor[] weights = [hidden.weight!, hidden.bias!, output.weight!, output.bias!];
        int first = outputLayerOnly ? 2 : 0;
        head.eval();
        for (int step = 0; step < rates.Count; step++)
        {
            using var scope = NewDisposeScope();
            var loss = nn.functional.cross_entropy(head.forward(support), labels);
            if (!float.IsFinite(loss.item<float>()))
                throw new EdgeTrainerException(TrainerErrorCode.NonFiniteLoss, $"The adaptation loss became non-finite at step {step}.");
            var grads = autograd.grad([loss], weights[first..]);
            using var noGrad = no_grad();
            for (int k = first; k < weights.Length; k++)
                weights[k].add_(grads[k - first], alpha: -rates[step][k]);
        }
        return head;
    }

    /// <summary>
    /// The baseline a meta-learned head must beat: the seed head with PyTorch's default
    /// initialization of the hidden layer and a zero output layer (every class starts equal).
    /// </summary>
    public static HeadModel ZeroInitializedHead(int featureDim, int classes, int seed, int hidden = 512)
    {
        manual_seed(seed);
        var head = HeadModel.Create(featureDim, classes, new HeadOptions { Hidden = hidden });
        var (_, output) = HeadWeights.Layers(head.Head);
        using var noGrad = no_grad();
        output.weight!.zero_();
        output.bias!.zero_();
        return head;
    }

    /// <summary>Accuracy of <paramref name="head"/> on <paramref name="features"/> [n, d] with <paramref name="labels"/> [n].</summary>
    public static double Accuracy(HeadModel head, Tensor features, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(head);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        head.eval();
        return head.forward(features).argmax(1).eq(labels).to(ScalarType.Float32).mean().item<float>();
    }
}
