namespace EdgeTL.Runtime.Statistics;

/// <summary>Result of a two-sample MMD test.</summary>
/// <param name="Mmd2">Unbiased MMD² with the multi-bandwidth Gaussian kernel.</param>
/// <param name="PValue">Permutation-test p-value: the share of label permutations whose MMD² reaches the observed one.</param>
/// <param name="Bandwidths">The kernel bandwidths σ² used (median heuristic × factors).</param>
public sealed record MmdResult(double Mmd2, double PValue, IReadOnlyList<double> Bandwidths);

/// <summary>
/// Kernel two-sample test on plain arrays: unbiased MMD² with a sum of Gaussian kernels whose
/// bandwidths are the median pairwise squared distance times {¼, ½, 1, 2, 4} (the median
/// heuristic, as in multi-kernel MMD), and an exact permutation test for its p-value.
/// The pooled kernel matrix is computed once; each permutation only re-sums it.
/// </summary>
public static class MmdTest
{
    private static readonly double[] Factors = [0.25, 0.5, 1, 2, 4];

    /// <summary>Tests whether rows of <paramref name="x"/> and <paramref name="y"/> ([N, D] and [M, D], row-major) share a distribution.</summary>
    public static MmdResult Run(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int dim, int permutations = 200, int seed = 0)
    {
        if (dim < 1 || x.Length % dim != 0 || y.Length % dim != 0)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidInputShape, $"Samples of {x.Length} and {y.Length} values are not rows of {dim}.");
        int n = x.Length / dim, m = y.Length / dim;
        if (n < 2 || m < 2)
            throw new EdgeRuntimeException(RuntimeErrorCode.EmptyDataset, $"MMD needs at least 2 samples per side, got {n} and {m}.");
        int total = n + m;
        var pooled = new float[total * dim];
        x.CopyTo(pooled);
        y.CopyTo(pooled.AsSpan(x.Length));

        var distances = new double[total * total];
        var upper = new List<double>(total * (total - 1) / 2);
        for (int i = 0; i < total; i++)
        {
            var a = pooled.AsSpan(i * dim, dim);
            for (int j = i + 1; j < total; j++)
            {
                var b = pooled.AsSpan(j * dim, dim);
                double d = 0;
                for (int k = 0; k < dim; k++)
                {
                    double diff = a[k] - b[k];
                    d += diff * diff;
                }
                distances[(i * total) + j] = distances[(j * total) + i] = d;
                upper.Add(d);
            }
        }
        upper.Sort();
        double median = Math.Max(upper[upper.Count / 2], 1e-12);
        double[] bandwidths = [.. Factors.Select(f => f * median)];
        var kernel = new double[total * total];
        for (int k = 0; k < kernel.Length; k++)
        {
            double sum = 0;
            foreach (double bw in bandwidths)
                sum += Math.Exp(-distances[k] / bw);
            kernel[k] = sum;
        }

        var order = Enumerable.Range(0, total).ToArray();
        double observed = Unbiased(kernel, total, order, n);
        var random = new Random(seed);
        int atLeast = 0;
        for (int p = 0; p < permutations; p++)
        {
            random.Shuffle(order);
            if (Unbiased(kernel, total, order, n) >= observed)
                atLeast++;
        }
        return new MmdResult(observed, (atLeast + 1.0) / (permutations + 1.0), bandwidths);
    }

    /// <summary>Unbiased MMD² where the first <paramref name="n"/> entries of <paramref name="order"/> form X.</summary>
    private static double Unbiased(double[] kernel, int total, int[] order, int n)
    {
        int m = total - n;
        double xx = 0, yy = 0, xy = 0;
        for (int a = 0; a < total; a++)
        {
            int i = order[a];
            int row = i * total;
            for (int b = a + 1; b < total; b++)
            {
                double k = kernel[row + order[b]];
                if (b < n)
                    xx += k;
                else if (a >= n)
                    yy += k;
                else
                    xy += k;
            }
        }
        return (2 * xx / (n * (n - 1.0))) + (2 * yy / (m * (m - 1.0))) - (2 * xy / (n * (double)m));
    }
}
