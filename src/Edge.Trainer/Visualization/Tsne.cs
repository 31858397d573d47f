namespace EdgeTL.Trainer.Visualization;

/// <summary>
/// Exact t-SNE (van der Maaten and Hinton, "Visualizing Data using t-SNE", JMLR 2008): Gaussian
/// input affinities fitted to a perplexity by binary search, Student-t output affinities, early
/// exaggeration, momentum and per-coordinate gains. O(n²) per iteration, for n up to
/// <see cref="TsneOptions.MaxExactPoints"/>; larger sets must be subsampled first (Barnes–Hut is
/// not implemented, and asking for it with more points is an error). Deterministic: the same
/// data, options and seed give the same embedding on any thread count.
/// </summary>
public static class Tsne
{
    /// <summary>Embeds <paramref name="points"/> ([n][d]) into 2-D: [n][2].</summary>
    public static double[][] Embed(IReadOnlyList<double[]> points, TsneOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(points);
        options ??= new TsneOptions();
        options.Validate();
        int n = points.Count;
        if (n < 2)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape, "t-SNE needs at least two points.");
        if (n > options.MaxExactPoints)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration,
                $"Exact t-SNE is limited to {options.MaxExactPoints} points, got {n}; subsample (for example per class) before embedding.");
        int d = points[0].Length;
        if (points.Any(p => p.Length != d || p.Any(v => !double.IsFinite(v))))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape, "t-SNE needs rows of equal length with finite values.");
        if (options.Perplexity >= n)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"The perplexity ({options.Perplexity}) must be below the number of points ({n}).");

        var p = JointProbabilities(points, options.Perplexity);
        return Optimize(p, n, options);
    }

    /// <summary>Symmetric P with p_ij = (p_j|i + p_i|j) / 2n, each p_·|i fitted to the perplexity.</summary>
    private static double[] JointProbabilities(IReadOnlyList<double[]> x, double perplexity)
    {
        int n = x.Count;
        var distances = new double[n * n];
        Parallel.For(0, n, i =>
        {
            for (int j = 0; j < n; j++)
                distances[(i * n) + j] = i == j ? 0 : SquaredDistance(x[i], x[j]);
        });
        var conditional = new double[n * n];
        double targetEntropy = Math.Log(perplexity);
        Parallel.For(0, n, i => FitRow(distances.AsSpan(i * n, n), conditional.AsSpan(i * n, n), i, targetEntropy));
        var joint = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
                joint[(i * n) + j] = Math.Max((conditional[(i * n) + j] + conditional[(j * n) + i]) / (2.0 * n), 1e-12);
        }
        return joint;
    }

    /// <summary>Binary search on the Gaussian precision β of row i until the entropy of p_·|i is log(perplexity).</summary>
    private static void FitRow(ReadOnlySpan<double> distances, Span<double> row, int i, double targetEntropy)
    {
        double beta = 1, low = double.NegativeInfinity, high = double.PositiveInfinity;
        for (int attempt = 0; attempt < 100; attempt++)
        {
            double sum = 0, weighted = 0;
            for (int j = 0; j < distances.Length; j++)
            {
                double v = j == i ? 0 : Math.Exp(-distances[j] * beta);
                row[j] = v;
                sum += v;
                weighted += distances[j] * v;
            }
            sum = Math.Max(sum, 1e-300);
            double entropy = Math.Log(sum) + (beta * weighted / sum);
            for (int j = 0; j < row.Length; j++)
                row[j] /= sum;
            double difference = entropy - targetEntropy;
            if (Math.Abs(difference) < 1e-5)
                break;
            if (difference > 0)
            {
                low = beta;
                beta = double.IsPositiveInfinity(high) ? beta * 2 : (beta + high) / 2;
            }
            else
            {
                high = beta;
                beta = double.IsNegativeInfinity(low) ? beta / 2 : (beta + low) / 2;
            }
        }
    }

    private static double[][] Optimize(double[] p, int n, TsneOptions options)
    {
        var random = new Random(options.Seed);
        var y = new double[n * 2];
        for (int k = 0; k < y.Length; k++)
            y[k] = 1e-4 * Gaussian(random);
        var update = new double[n * 2];
        var gains = Enumerable.Repeat(1.0, n * 2).ToArray();
        var gradient = new double[n * 2];
        var inverse = new double[n * n];
        var rowSums = new double[n];
        double rate = options.LearningRate ?? Math.Max(n / options.EarlyExaggeration / 4, 50);
        for (int iteration = 0; iteration < options.Iterations; iteration++)
        {
            bool early = iteration < options.ExaggerationIterations;
            double exaggeration = early ? options.EarlyExaggeration : 1;
            double momentum = early ? 0.5 : 0.8;
            // Student-t kernel (1 + ‖y_i − y_j‖²)^−1; Z is its sum over i ≠ j (summed in row order: deterministic).
            Parallel.For(0, n, i =>
            {
                double sum = 0;
                for (int j = 0; j < n; j++)
                {
                    if (j == i)
                    {
                        inverse[(i * n) + j] = 0;
                        continue;
                    }
                    double dx = y[2 * i] - y[2 * j], dy = y[(2 * i) + 1] - y[(2 * j) + 1];
                    double v = 1 / (1 + (dx * dx) + (dy * dy));
                    inverse[(i * n) + j] = v;
                    sum += v;
                }
                rowSums[i] = sum;
            });
            double z = 0;
            for (int i = 0; i < n; i++)
                z += rowSums[i];
            Parallel.For(0, n, i =>
            {
                double gx = 0, gy = 0;
                for (int j = 0; j < n; j++)
                {
                    double v = inverse[(i * n) + j];
                    double force = ((exaggeration * p[(i * n) + j]) - (v / z)) * v;
                    gx += force * (y[2 * i] - y[2 * j]);
                    gy += force * (y[(2 * i) + 1] - y[(2 * j) + 1]);
                }
                gradient[2 * i] = 4 * gx;
                gradient[(2 * i) + 1] = 4 * gy;
            });
            for (int k = 0; k < y.Length; k++)
            {
                // Delta-bar-delta gains: grow while the gradient keeps pushing the same way as the last step, shrink when it turns.
                gains[k] = update[k] * gradient[k] < 0 ? gains[k] + 0.2 : Math.Max(gains[k] * 0.8, 0.01);
                update[k] = (momentum * update[k]) - (rate * gains[k] * gradient[k]);
                y[k] += update[k];
            }
            Center(y, n);
        }
        return Enumerable.Range(0, n).Select(i => new[] { y[2 * i], y[(2 * i) + 1] }).ToArray();
    }

    private static void Center(double[] y, int n)
    {
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++)
        {
            mx += y[2 * i];
            my += y[(2 * i) + 1];
        }
        mx /= n;
        my /= n;
        for (int i = 0; i < n; i++)
        {
            y[2 * i] -= mx;
            y[(2 * i) + 1] -= my;
        }
    }

    internal static double SquaredDistance(double[] a, double[] b)
    {
        double s = 0;
        for (int k = 0; k < a.Length; k++)
        {
            double t = a[k] - b[k];
            s += t * t;
        }
        return s;
    }

    private static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
