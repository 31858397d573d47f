using EdgeTL.Runtime.Statistics;

namespace EdgeTL.Runtime.Tests.Statistics;

public sealed class StatisticsTests
{
    [Fact]
    public void Welford_matches_the_two_pass_mean_and_covariance()
    {
        var random = new Random(3);
        const int n = 500, d = 4;
        var rows = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            float a = (float)random.NextDouble() * 10 + 1000;   // large offset: the naive one-pass formula loses digits here
            rows[(i * d) + 0] = a;
            rows[(i * d) + 1] = 2 * a + (float)random.NextDouble();
            rows[(i * d) + 2] = (float)random.NextDouble();
            rows[(i * d) + 3] = -a;
        }
        var moments = new RunningMoments(d);
        moments.AddRows(rows);
        var mean = Enumerable.Range(0, d).Select(j => Enumerable.Range(0, n).Average(i => (double)rows[(i * d) + j])).ToArray();
        var cov = moments.Covariance();
        for (int a = 0; a < d; a++)
        {
            Assert.Equal(mean[a], moments.Mean()[a], 6);
            for (int b = 0; b < d; b++)
            {
                double expected = Enumerable.Range(0, n).Sum(i => (rows[(i * d) + a] - mean[a]) * (rows[(i * d) + b] - mean[b])) / (n - 1);
                Assert.Equal(expected, cov[(a * d) + b], 4);
            }
        }
        Assert.Equal(-cov[0], cov[3], 4);   // column 3 is −column 0
    }

    [Fact]
    public void MMD_is_near_zero_for_one_distribution_and_large_for_a_shift()
    {
        var random = new Random(5);
        float[] Sample(int n, float shift) => [.. Enumerable.Range(0, n * 3).Select(_ => (float)(random.NextDouble() + shift))];
        var same = MmdTest.Run(Sample(60, 0), Sample(60, 0), 3, permutations: 300, seed: 1);
        var shifted = MmdTest.Run(Sample(60, 0), Sample(60, 0.5f), 3, permutations: 300, seed: 1);
        Assert.True(Math.Abs(same.Mmd2) < shifted.Mmd2 / 5, $"{same.Mmd2} vs {shifted.Mmd2}");
        Assert.Equal(1.0 / 301, shifted.PValue, 10);
        Assert.Equal(5, shifted.Bandwidths.Count);
    }

    [Fact]
    public void PSI_and_the_adaptive_weight_follow_their_formulas()
    {
        long[] expected = [50, 30, 20];
        long[] actual = [20, 30, 50];
        double psi = (0.2 - 0.5) * Math.Log(0.2 / 0.5) + 0 + (0.5 - 0.2) * Math.Log(0.5 / 0.2);
        Assert.Equal(psi, DriftMetrics.Psi(expected, actual), 12);
        Assert.Equal(0, DriftMetrics.Psi(expected, expected), 12);
        Assert.Equal(0.5, DriftMetrics.AdaptiveWeight([1, 2], [1, 2]), 12);
        Assert.Equal(1 / (1 + Math.Exp(-0.1 * 5)), DriftMetrics.AdaptiveWeight([0, 0], [3, 4]), 12);
        Assert.Throws<EdgeRuntimeException>(() => DriftMetrics.Histogram([0, 3], 3));
    }
}
