namespace EdgeTL.Runtime.Statistics;

/// <summary>Thresholds of the drift detector.</summary>
public sealed record DriftOptions
{
    /// <summary>Feature rows per window.</summary>
    public int WindowSize { get; init; } = 100;

    /// <summary>
    /// Significance of the MMD permutation test: drift when p &lt; Alpha. The default 0.01 keeps
    /// the false-alarm rate (about Alpha per window, since the permutation test is exact) well
    /// inside a 5% budget.
    /// </summary>
    public double Alpha { get; init; } = 0.01;

    /// <summary>Drift when the PSI of predicted classes exceeds this (when predictions are given).</summary>
    public double PsiThreshold { get; init; } = 0.25;

    /// <summary>Permutations of the MMD test.</summary>
    public int Permutations { get; init; } = 200;

    /// <summary>Scale of the adaptive weight sigmoid(scale · ‖μ_s − μ_t‖).</summary>
    public double WeightScale { get; init; } = 0.1;

    /// <summary>Seed of the permutations.</summary>
    public int Seed { get; init; }
}

/// <summary>What the detector saw in one window.</summary>
public sealed record DriftReport
{
    /// <summary>True when any test crossed its threshold.</summary>
    public required bool Drift { get; init; }

    /// <summary>Which tests fired (e.g. <c>mmd</c>, <c>psi</c>).</summary>
    public required IReadOnlyList<string> Reasons { get; init; }

    /// <summary>Unbiased MMD² between the reference and the window.</summary>
    public required double Mmd2 { get; init; }

    /// <summary>Permutation p-value of the MMD.</summary>
    public required double PValue { get; init; }

    /// <summary>PSI of predicted classes, when predictions were given.</summary>
    public double? Psi { get; init; }

    /// <summary>‖μ_reference − μ_window‖.</summary>
    public required double MeanShift { get; init; }

    /// <summary>The seed's adaptive weight for this shift.</summary>
    public required double AdaptiveWeight { get; init; }

    /// <summary>Rows in the window.</summary>
    public required int WindowSize { get; init; }
}

/// <summary>
/// Compares windows of features (and optionally predicted classes) with a reference window:
/// an MMD permutation test on the features and a PSI on the predicted-class histogram.
/// </summary>
public sealed class DriftDetector
{
    private readonly DriftOptions _options;
    private float[] _reference = [];
    private double[] _referenceMean = [];
    private long[]? _referenceClasses;
    private int _checks;

    /// <summary>Creates a detector with <paramref name="options"/>.</summary>
    public DriftDetector(int dim, DriftOptions? options = null)
    {
        if (dim < 1)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, $"Dimension must be ≥ 1, got {dim}.");
        Dim = dim;
        _options = options ?? new DriftOptions();
    }

    /// <summary>Feature width.</summary>
    public int Dim { get; }

    /// <summary>True once a reference is set.</summary>
    public bool HasReference => _reference.Length > 0;

    /// <summary>Sets the reference window ([N, D] row-major) and, optionally, its predicted classes.</summary>
    public void SetReference(ReadOnlySpan<float> features, ReadOnlySpan<int> predictedClasses = default, int classCount = 0)
    {
        _reference = features.ToArray();
        _referenceMean = MeanOf(_reference);
        _referenceClasses = predictedClasses.IsEmpty ? null : DriftMetrics.Histogram(predictedClasses, classCount);
    }

    /// <summary>Tests one window against the reference.</summary>
    public DriftReport Check(ReadOnlySpan<float> window, ReadOnlySpan<int> predictedClasses = default)
    {
        if (!HasReference)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, "Set a reference window before checking for drift.");
        var mmd = MmdTest.Run(_reference, window, Dim, _options.Permutations, _options.Seed + _checks++);
        var mean = MeanOf(window.ToArray());
        double shift = DriftMetrics.MeanDistance(_referenceMean, mean);
        double? psi = null;
        if (_referenceClasses is not null && !predictedClasses.IsEmpty)
            psi = DriftMetrics.Psi(_referenceClasses, DriftMetrics.Histogram(predictedClasses, _referenceClasses.Length));
        var reasons = new List<string>();
        if (mmd.PValue < _options.Alpha)
            reasons.Add("mmd");
        if (psi > _options.PsiThreshold)
            reasons.Add("psi");
        return new DriftReport
        {
            Drift = reasons.Count > 0,
            Reasons = reasons,
            Mmd2 = mmd.Mmd2,
            PValue = mmd.PValue,
            Psi = psi,
            MeanShift = shift,
            AdaptiveWeight = DriftMetrics.AdaptiveWeight(_referenceMean, mean, _options.WeightScale),
            WindowSize = window.Length / Dim,
        };
    }

    private double[] MeanOf(float[] rows)
    {
        var moments = new RunningMoments(Dim);
        moments.AddRows(rows);
        return moments.Mean();
    }
}
