namespace EdgeTL.Trainer.Visualization;

/// <summary>
/// How well an embedding keeps local neighbourhoods (Venna and Kaski, 2001):
/// T(k) = 1 − 2 / (n·k·(2n − 3k − 1)) · Σ_i Σ_{j ∈ U_i} (r(i, j) − k), where U_i are the k nearest
/// neighbours of i in the embedding that are not among its k nearest in the input, and r(i, j) is
/// j's rank among i's input-space neighbours. 1 means no false neighbours. Needs k &lt; n/2.
/// </summary>
public static class Trustworthiness
{
    /// <summary>T(k) of <paramref name="embedding"/> ([n][e]) for <paramref name="input"/> ([n][d]).</summary>
    public static double Compute(IReadOnlyList<double[]> input, IReadOnlyList<double[]> embedding, int k = 10)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(embedding);
        int n = input.Count;
        if (embedding.Count != n || k < 1 || k >= n / 2.0)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration,
                $"Trustworthiness needs as many embedded as input points and 1 ≤ k < n/2 (n = {n}, k = {k}, embedded {embedding.Count}).");
        var penalty = new double[n];
        Parallel.For(0, n, i =>
        {
            var inputOrder = Neighbours(input, i);
            var rank = new int[n];
            for (int r = 0; r < inputOrder.Length; r++)
                rank[inputOrder[r]] = r + 1;
            double sum = 0;
            foreach (int j in Neighbours(embedding, i).Take(k))
                sum += Math.Max(0, rank[j] - k);
            penalty[i] = sum;
        });
        double total = penalty.Sum();
        return 1.0 - (2.0 / (n * k * ((2.0 * n) - (3.0 * k) - 1.0)) * total);
    }

    /// <summary>Every other point, nearest first (ties by index).</summary>
    private static int[] Neighbours(IReadOnlyList<double[]> points, int i) =>
        Enumerable.Range(0, points.Count).Where(j => j != i)
            .OrderBy(j => Tsne.SquaredDistance(points[i], points[j])).ThenBy(j => j).ToArray();
}
