namespace EdgeTL.Runtime.Statistics;

/// <summary>
/// Running mean and covariance of D-dimensional vectors by Welford's algorithm: one pass,
/// numerically stable, constant memory (D + D²), so a device can track the statistics of a
/// stream of features without keeping them.
/// </summary>
public sealed class RunningMoments
{
    private readonly double[] _mean;
    private readonly double[] _m2;   // D×D sum of co-deviations
    private readonly double[] _delta;

    /// <summary>Tracks <paramref name="dim"/>-dimensional vectors.</summary>
    public RunningMoments(int dim)
    {
        if (dim < 1)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, $"Dimension must be ≥ 1, got {dim}.");
        Dim = dim;
        _mean = new double[dim];
        _m2 = new double[dim * dim];
        _delta = new double[dim];
    }

    /// <summary>Vector width.</summary>
    public int Dim { get; }

    /// <summary>Vectors seen.</summary>
    public long Count { get; private set; }

    /// <summary>Adds one vector.</summary>
    public void Add(ReadOnlySpan<float> x)
    {
        if (x.Length != Dim)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidInputShape, $"Expected {Dim} values, got {x.Length}.");
        Count++;
        for (int i = 0; i < Dim; i++)
        {
            _delta[i] = x[i] - _mean[i];
            _mean[i] += _delta[i] / Count;
        }
        for (int i = 0; i < Dim; i++)
        {
            double after = x[i] - _mean[i];
            int row = i * Dim;
            for (int j = 0; j < Dim; j++)
                _m2[row + j] += after * _delta[j];
        }
    }

    /// <summary>Adds every row of a row-major [N, D] block.</summary>
    public void AddRows(ReadOnlySpan<float> rows)
    {
        if (rows.Length % Dim != 0)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidInputShape, $"{rows.Length} values are not rows of {Dim}.");
        for (int r = 0; r < rows.Length; r += Dim)
            Add(rows.Slice(r, Dim));
    }

    /// <summary>The mean.</summary>
    public double[] Mean() => (double[])_mean.Clone();

    /// <summary>The sample covariance (N − 1 denominator), row-major D×D.</summary>
    public double[] Covariance()
    {
        var cov = new double[Dim * Dim];
        if (Count < 2)
            return cov;
        for (int k = 0; k < cov.Length; k++)
            cov[k] = _m2[k] / (Count - 1);
        return cov;
    }

    /// <summary>Per-dimension variance (the covariance diagonal).</summary>
    public double[] Variance()
    {
        var v = new double[Dim];
        for (int i = 0; i < Dim; i++)
            v[i] = Count < 2 ? 0 : _m2[(i * Dim) + i] / (Count - 1);
        return v;
    }
}
