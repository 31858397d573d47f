using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Metrics;

/// <summary>
/// Maximum mean discrepancy between two feature sets X [n, d] and Y [m, d]
/// (Gretton et al., "A Kernel Two-Sample Test", JMLR 2012).
/// </summary>
public static class Mmd
{
    /// <summary>Linear-kernel MMD² = ‖mean(X) − mean(Y)‖².</summary>
    public static double Linear(Tensor x, Tensor y)
    {
        Check(x, y, 1);
        using var scope = NewDisposeScope();
        return (x.mean([0]) - y.mean([0])).pow(2).sum().item<float>();
    }

    /// <summary>
    /// Unbiased MMD² with a multi-bandwidth Gaussian kernel k(a,b) = Σ_σ exp(−‖a−b‖² / (2σ²)).
    /// The base bandwidth σ₀² is the median pairwise squared distance of X∪Y (median
    /// heuristic); bandwidths are σ₀²·2^k for k in <paramref name="bandwidthExponents"/>
    /// (default −2…2). Diagonal terms are left out of the within-set means, so E[MMD²] = 0
    /// when X and Y come from one distribution (the estimate can be slightly negative).
    /// </summary>
    public static double GaussianUnbiased(Tensor x, Tensor y, IReadOnlyList<int>? bandwidthExponents = null)
    {
        Check(x, y, 2);
        bandwidthExponents ??= [-2, -1, 0, 1, 2];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var xx = x.to_type(ScalarType.Float64);
        var yy = y.to_type(ScalarType.Float64);
        var all = cat([xx, yy], 0);
        var d2 = cdist(all, all).pow(2);
        long n = x.shape[0], m = y.shape[0];
        var offDiagonal = d2.masked_select(ones_like(d2, dtype: ScalarType.Bool).triu(1));
        double median = offDiagonal.median().item<double>();
        if (!(median > 0))
            median = 1.0;
        var kernel = zeros_like(d2);
        foreach (int k in bandwidthExponents)
            kernel += exp(-d2 / (2 * median * Math.Pow(2, k)));
        var kxx = kernel[..(int)n, ..(int)n];
        var kyy = kernel[(int)n.., (int)n..];
        var kxy = kernel[..(int)n, (int)n..];
        double sxx = (kxx.sum() - kxx.diagonal().sum()).item<double>() / (n * (n - 1));
        double syy = (kyy.sum() - kyy.diagonal().sum()).item<double>() / (m * (m - 1));
        double sxy = kxy.mean().item<double>();
        return sxx + syy - (2 * sxy);
    }

    private static void Check(Tensor x, Tensor y, int minRows)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.dim() != 2 || y.dim() != 2 || x.shape[1] != y.shape[1])
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape,
                $"MMD needs X [n, d] and Y [m, d]; got [{string.Join(", ", x.shape)}] and [{string.Join(", ", y.shape)}].");
        if (x.shape[0] < minRows || y.shape[0] < minRows)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, $"MMD needs at least {minRows} samples in each set.");
    }
}
