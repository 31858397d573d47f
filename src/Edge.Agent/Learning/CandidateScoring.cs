using EdgeTL.Agent.Serving;
using static TorchSharp.torch;

namespace EdgeTL.Agent.Learning;

/// <summary>Per-row correctness and prediction entropy of a candidate module or the serving head, what <see cref="PromotionGuard"/> decides on.</summary>
public static class CandidateScoring
{
    /// <summary>Softmax probabilities of <paramref name="module"/> (in eval mode) for <paramref name="count"/> feature rows.</summary>
    public static float[][] Probabilities(nn.Module<Tensor, Tensor> module, float[] features, int count)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(features);
        if (count == 0)
            return [];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        module.eval();
        var probabilities = nn.functional.softmax(module.forward(tensor(features).reshape(count, features.Length / count)), 1);
        int classes = (int)probabilities.shape[1];
        float[] flat = probabilities.data<float>().ToArray();
        return [.. Enumerable.Range(0, count).Select(i => flat[(i * classes)..((i + 1) * classes)])];
    }

    /// <summary>Whether <paramref name="module"/> classifies each row of <paramref name="set"/> correctly.</summary>
    public static bool[] Correct(nn.Module<Tensor, Tensor> module, LabelledFeatures set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return Correct(Probabilities(module, set.Features, set.Count), set.Labels);
    }

    /// <summary>Whether the serving <paramref name="head"/> classifies each row of <paramref name="set"/> correctly.</summary>
    public static bool[] Correct(HeadClassifier head, LabelledFeatures set)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(set);
        return set.Count == 0 ? [] : Correct(head.Probabilities(set.Features, set.Count), set.Labels);
    }

    /// <summary>Mean entropy (nats) of the predicted distributions; 0 for none.</summary>
    public static double MeanEntropy(IReadOnlyList<float[]> probabilities)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        if (probabilities.Count == 0)
            return 0;
        return probabilities.Average(p => -p.Where(v => v > 0).Sum(v => v * Math.Log(v)));
    }

    private static bool[] Correct(float[][] probabilities, int[] labels) =>
        [.. probabilities.Select((p, i) => Array.IndexOf(p, p.Max()) == labels[i])];
}
