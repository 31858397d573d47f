using EdgeTL.Runtime.Onnx;

namespace EdgeTL.Runtime.Features;

/// <summary>One prediction: the winning class, its label, and every class's probability.</summary>
public sealed record Prediction(int ClassIndex, string Label, float[] Probabilities)
{
    /// <summary>Probability of the winning class.</summary>
    public float Confidence => Probabilities[ClassIndex];
}

/// <summary>Backbone plus head: features from the extractor, logits from the head, softmax, label.</summary>
public sealed class Predictor
{
    private readonly FeatureExtractor _features;
    private readonly OnnxModel _head;
    private readonly IReadOnlyList<string> _labels;

    /// <summary>Combines a feature extractor with a head model ([N, D] → [N, classes]).</summary>
    public Predictor(FeatureExtractor features, OnnxModel head, IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(labels);
        _features = features;
        _head = head;
        _labels = labels;
    }

    /// <summary>Predicts encoded images.</summary>
    public IReadOnlyList<Prediction> PredictEncoded(IReadOnlyList<byte[]> images) => FromFeatures(_features.ExtractEncoded(images), images.Count);

    /// <summary>Predicts from [N, D] features already extracted.</summary>
    public IReadOnlyList<Prediction> FromFeatures(float[] features, int count)
    {
        ArgumentNullException.ThrowIfNull(features);
        var (logits, shape) = _head.Run(features, [count, _features.FeatureDim]);
        int classes = shape[^1];
        if (classes != _labels.Count)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidModel, $"The head has {classes} outputs but the manifest lists {_labels.Count} labels.");
        var result = new Prediction[count];
        for (int i = 0; i < count; i++)
        {
            var p = Softmax(logits.AsSpan(i * classes, classes));
            int best = 0;
            for (int c = 1; c < classes; c++)
            {
                if (p[c] > p[best])
                    best = c;
            }
            result[i] = new Prediction(best, _labels[best], p);
        }
        return result;
    }

    private static float[] Softmax(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits)
            max = Math.Max(max, v);
        var p = new float[logits.Length];
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
            sum += p[i] = MathF.Exp(logits[i] - max);
        for (int i = 0; i < p.Length; i++)
            p[i] = (float)(p[i] / sum);
        return p;
    }
}
