using EdgeTL.Trainer.Metrics;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Metrics;

public sealed class MetricsTests
{
    [Fact]
    public void Linear_IsSquaredDistanceOfMeans()
    {
        using var x = tensor(new float[,] { { 0, 0 }, { 2, 0 } });
        using var y = tensor(new float[,] { { 1, 3 }, { 1, 1 } });
        Assert.Equal(4.0, Mmd.Linear(x, y), 6);
    }

    [Fact]
    public void GaussianUnbiased_SameDistribution_NearZero_ShiftedIsLarger()
    {
        manual_seed(0);
        using var a = randn(200, 16);
        using var b = randn(200, 16);
        using var shifted = randn(200, 16) + 0.5;
        double same = Mmd.GaussianUnbiased(a, b);
        double different = Mmd.GaussianUnbiased(a, shifted);
        Assert.True(Math.Abs(same) < 0.01, $"same-distribution MMD² {same}");
        Assert.True(different > 10 * Math.Abs(same) && different > 0.02, $"shifted MMD² {different} vs {same}");
    }

    [Fact]
    public void GaussianUnbiased_MatchesDirectFormula()
    {
        using var x = tensor(new float[,] { { 0 }, { 1 }, { 3 } });
        using var y = tensor(new float[,] { { 2 }, { 5 } });
        // All pairwise squared distances of {0,1,3,2,5}: median of the 10 off-diagonal ones is 4.
        double K(double a, double b) => new[] { -2, -1, 0, 1, 2 }.Sum(k => Math.Exp(-((a - b) * (a - b)) / (2 * 4 * Math.Pow(2, k))));
        double[] xs = [0, 1, 3], ys = [2, 5];
        double kxx = (from i in xs from j in xs where i != j select K(i, j)).Sum() / 6;
        double kyy = (K(2, 5) + K(5, 2)) / 2;
        double kxy = (from i in xs from j in ys select K(i, j)).Sum() / 6;
        Assert.Equal(kxx + kyy - (2 * kxy), Mmd.GaussianUnbiased(x, y), 9);
    }

    [Fact]
    public void Mmd_MismatchedWidths_ThrowsInvalidInputShape()
    {
        using var x = randn(4, 3);
        using var y = randn(4, 5);
        Assert.Equal(TrainerErrorCode.InvalidInputShape, Assert.Throws<EdgeTrainerException>(() => Mmd.Linear(x, y)).Code);
    }

    [Fact]
    public void Cid_TwoClasses_IsMeanSquaredDistanceToCentre()
    {
        using var features = tensor(new float[,] { { 0, 0 }, { 0, 2 }, { 4, 0 }, { 4, 2 } });
        using var labels = tensor(new long[] { 0, 0, 1, 1 });
        // Class means (0,1) and (4,1); centre (2,1); each at squared distance 4.
        Assert.Equal(4.0, ClassSeparation.Cid(features, labels, 2), 6);
    }

    [Fact]
    public void ClassificationReport_CountsConfusionAndPerClassAccuracy()
    {
        var report = ClassificationReport.From([0, 1, 1, 2, 2, 0], [0, 1, 0, 2, 2, 2], 3);
        Assert.Equal(4.0 / 6, report.Accuracy, 9);
        Assert.Equal([0.5, 1.0, 2.0 / 3], report.PerClassAccuracy);
        Assert.Equal(1, report.Confusion[0, 1]);
        Assert.Equal(1, report.Confusion[2, 0]);
    }
}
