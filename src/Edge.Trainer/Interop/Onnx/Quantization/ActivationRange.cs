namespace EdgeTL.Trainer.Interop.Onnx.Quantization;

/// <summary>How an activation's int8 range is chosen from what calibration saw.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen: nothing clips, outliers cost resolution.</summary>
    MinMax,

    /// <summary>The magnitude that <see cref="QuantizationOptions.Percentile"/> % of the values stay under: rare outliers clip.</summary>
    Percentile,

    /// <summary>The clipping magnitude whose 8-bit histogram loses the least information (KL divergence), as TensorRT calibrates.</summary>
    Entropy,
}

/// <summary>
/// What calibration saw of one activation: its extremes and a histogram of magnitudes over
/// [0, max |x|], from which each <see cref="CalibrationMethod"/> picks the range to quantize.
/// </summary>
public sealed class ActivationRange
{
    private readonly long[] _histogram;

    /// <summary>An empty record of <paramref name="bins"/> magnitude bins over [0, max(|<paramref name="min"/>|, |<paramref name="max"/>|)].</summary>
    public ActivationRange(double min, double max, int bins)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max) || min > max)
            throw new EdgeTrainerException(TrainerErrorCode.NonFiniteInput, $"Calibration saw an activation range [{min}, {max}]: the calibration images or the model produce non-finite values.");
        Min = min;
        Max = max;
        MaxMagnitude = Math.Max(Math.Abs(min), Math.Abs(max));
        _histogram = new long[bins];
    }

    /// <summary>Smallest value seen.</summary>
    public double Min { get; }

    /// <summary>Largest value seen.</summary>
    public double Max { get; }

    /// <summary>max(|Min|, |Max|): the histogram's upper edge.</summary>
    public double MaxMagnitude { get; }

    /// <summary>Adds <paramref name="values"/> to the magnitude histogram.</summary>
    public void Add(ReadOnlySpan<float> values)
    {
        if (MaxMagnitude <= 0)
            return;
        double perBin = _histogram.Length / MaxMagnitude;
        foreach (float v in values)
            _histogram[Math.Min(_histogram.Length - 1, (int)(Math.Abs(v) * perBin))]++;
    }

    /// <summary>The [low, high] range to quantize with <paramref name="method"/>; it always contains 0.</summary>
    public (double Low, double High) Range(CalibrationMethod method, double percentile = 99.99)
    {
        double threshold = method switch
        {
            CalibrationMethod.MinMax => MaxMagnitude,
            CalibrationMethod.Percentile => PercentileThreshold(percentile),
            CalibrationMethod.Entropy => Math.Max(EntropyThreshold(), PercentileThreshold(EntropyKeeps)),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };
        return (Math.Min(0, Math.Max(Min, -threshold)), Math.Max(0, Math.Min(Max, threshold)));
    }

    /// <summary>
    /// The share of magnitudes, in percent, that entropy calibration never clips. The divergence weighs the dense bulk near 0; on
    /// mobilenet_v2's linear bottlenecks it chose clips that cut several percent of the values, and the network's accuracy with them.
    /// </summary>
    public const double EntropyKeeps = 99.9;

    private double BinWidth => MaxMagnitude / _histogram.Length;

    private double PercentileThreshold(double percentile)
    {
        long total = _histogram.Sum();
        if (total == 0)
            return MaxMagnitude;
        long wanted = (long)Math.Ceiling(total * percentile / 100);
        long seen = 0;
        for (int i = 0; i < _histogram.Length; i++)
        {
            seen += _histogram[i];
            if (seen >= wanted)
                return (i + 1) * BinWidth;
        }
        return MaxMagnitude;
    }

    /// <summary>
    /// TensorRT's entropy calibration over magnitudes: for each candidate clip at bin i (from 128 on), the
    /// reference distribution is the histogram up to i with everything beyond folded into bin i; the
    /// candidate is that histogram merged into 128 levels and spread back over the non-empty bins. The
    /// clip with the least KL(reference ‖ candidate) wins.
    /// </summary>
    private double EntropyThreshold()
    {
        const int levels = 128;
        int bins = _histogram.Length;
        if (bins <= levels || _histogram.Sum() == 0)
            return MaxMagnitude;
        // The first bin holds the exact zeros of ReLU outputs: 0 is represented exactly whatever the clip, so they say
        // nothing about where to clip, yet their mass would dominate the divergence. They are left out.
        var histogram = (long[])_histogram.Clone();
        histogram[0] = 0;
        if (histogram.Sum() == 0)
            return MaxMagnitude;
        double bestDivergence = double.PositiveInfinity;
        int bestBin = bins;
        var reference = new double[bins];
        var candidate = new double[bins];
        for (int i = levels; i <= bins; i++)
        {
            for (int k = 0; k < i; k++)
                reference[k] = histogram[k];
            for (int k = i; k < bins; k++)
                reference[i - 1] += histogram[k];
            double perLevel = (double)i / levels;
            for (int level = 0; level < levels; level++)
            {
                int start = (int)(level * perLevel), end = level == levels - 1 ? i : (int)((level + 1) * perLevel);
                double sum = 0;
                int nonEmpty = 0;
                for (int k = start; k < end; k++)
                {
                    sum += histogram[k];
                    nonEmpty += histogram[k] > 0 ? 1 : 0;
                }
                for (int k = start; k < end; k++)
                    candidate[k] = histogram[k] > 0 ? sum / nonEmpty : 0;
            }
            double divergence = Divergence(reference.AsSpan(0, i), candidate.AsSpan(0, i));
            if (divergence < bestDivergence)
            {
                bestDivergence = divergence;
                bestBin = i;
            }
        }
        return bestBin * BinWidth;
    }

    /// <summary>KL(p ‖ q) of two unnormalized histograms; bins empty in p add nothing, bins empty only in q are smoothed.</summary>
    private static double Divergence(ReadOnlySpan<double> p, ReadOnlySpan<double> q)
    {
        double pSum = 0, qSum = 0;
        for (int k = 0; k < p.Length; k++)
        {
            pSum += p[k];
            qSum += q[k];
        }
        if (pSum == 0 || qSum == 0)
            return double.PositiveInfinity;
        double divergence = 0;
        for (int k = 0; k < p.Length; k++)
        {
            if (p[k] <= 0)
                continue;
            double pk = p[k] / pSum, qk = Math.Max(q[k] / qSum, 1e-12);
            divergence += pk * Math.Log(pk / qk);
        }
        return divergence;
    }
}
