namespace EdgeTL.Runtime.Statistics;

/// <summary>Small drift measures on plain arrays.</summary>
public static class DriftMetrics
{
    /// <summary>The seed's adaptive transfer weight, sigmoid(scale · ‖μ_s − μ_t‖).</summary>
    public static double AdaptiveWeight(ReadOnlySpan<double> sourceMean, ReadOnlySpan<double> targetMean, double scale = 0.1) =>
        1.0 / (1.0 + Math.Exp(-scale * MeanDistance(sourceMean, targetMean)));

    /// <summary>‖a − b‖₂.</summary>
    public static double MeanDistance(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidInputShape, $"Means of {a.Length} and {b.Length} dimensions.");
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
            sum += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// Population stability index of two histograms (e.g. predicted classes):
    /// Σ (a − e)·ln(a / e) over proportions, each floored at <paramref name="epsilon"/>.
    /// Rules of thumb: &lt; 0.1 stable, 0.1–0.25 moderate, &gt; 0.25 major shift.
    /// </summary>
    public static double Psi(ReadOnlySpan<long> expected, ReadOnlySpan<long> actual, double epsilon = 1e-4)
    {
        if (expected.Length != actual.Length || expected.Length == 0)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, $"Histograms of {expected.Length} and {actual.Length} bins.");
        double e = 0, a = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            e += expected[i];
            a += actual[i];
        }
        if (e <= 0 || a <= 0)
            throw new EdgeRuntimeException(RuntimeErrorCode.EmptyDataset, "PSI needs non-empty histograms.");
        double psi = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double pe = Math.Max(expected[i] / e, epsilon), pa = Math.Max(actual[i] / a, epsilon);
            psi += (pa - pe) * Math.Log(pa / pe);
        }
        return psi;
    }

    /// <summary>Histogram of class indices in [0, classes).</summary>
    public static long[] Histogram(ReadOnlySpan<int> classes, int classCount)
    {
        var h = new long[classCount];
        foreach (int c in classes)
        {
            if ((uint)c >= (uint)classCount)
                throw new EdgeRuntimeException(RuntimeErrorCode.LabelOutOfRange, $"Class {c} outside [0, {classCount}).");
            h[c]++;
        }
        return h;
    }
}
