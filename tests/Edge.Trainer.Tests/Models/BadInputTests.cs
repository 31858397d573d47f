using EdgeTL.Runtime;
using EdgeTL.Runtime.Data;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Models;

public sealed class BadInputTests
{
    private static readonly Lazy<TransferModel> Model = new(() => TransferModel.Create("mobilenet_v3_small", 5, seed: 0));

    [Fact]
    public void Forward_WrongChannelCount_ThrowsInvalidInputShape()
    {
        using var x = randn(2, 1, 32, 32);
        var e = Assert.Throws<EdgeTrainerException>(() => Model.Value.forward(x));
        Assert.Equal(TrainerErrorCode.InvalidInputShape, e.Code);
        Assert.Contains("3 channels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_ImageTooSmall_ThrowsInvalidInputShape()
    {
        using var x = randn(2, 3, 16, 16);
        var e = Assert.Throws<EdgeTrainerException>(() => Model.Value.forward(x));
        Assert.Equal(TrainerErrorCode.InvalidInputShape, e.Code);
        Assert.Contains("32×32", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_WrongRank_ThrowsInvalidInputShape()
    {
        using var x = randn(3, 32, 32);
        Assert.Equal(TrainerErrorCode.InvalidInputShape, Assert.Throws<EdgeTrainerException>(() => Model.Value.forward(x)).Code);
    }

    [Fact]
    public void Forward_NaNInput_ThrowsNonFiniteInput()
    {
        using var x = randn(2, 3, 32, 32);
        x[0, 1, 5, 5] = tensor(float.NaN);
        Assert.Equal(TrainerErrorCode.NonFiniteInput, Assert.Throws<EdgeTrainerException>(() => Model.Value.forward(x)).Code);
    }

    [Fact]
    public void Fit_LabelOutOfRange_ThrowsTypedError()
    {
        var trainer = new TrainingLoop(new TrainerOptions { Epochs = 1 });
        using var head = HeadModel.Create(8, 3);
        using var features = new FeatureSet(randn(4, 8), tensor(new long[] { 0, 1, 2, 3 }), 3);
        var e = Assert.Throws<EdgeTrainerException>(() => trainer.Fit(head, features.Batches(4, false, 0)));
        Assert.Equal(TrainerErrorCode.LabelOutOfRange, e.Code);
    }

    [Fact]
    public void FeatureSet_Empty_ThrowsEmptyDataset()
    {
        var e = Assert.Throws<EdgeTrainerException>(() => new FeatureSet(zeros(0, 8), zeros(0, dtype: ScalarType.Int64), 3));
        Assert.Equal(TrainerErrorCode.EmptyDataset, e.Code);
    }

    [Fact]
    public void BatchLoader_EmptyDataset_ThrowsEmptyDataset()
    {
        var empty = new LabeledImageSet([], [], 28, 28, 1, ["a", "b"]);
        var e = Assert.Throws<EdgeRuntimeException>(() => new BatchLoader(empty, TestData.Pipeline(), 8, true, false, 0));
        Assert.Equal(RuntimeErrorCode.EmptyDataset, e.Code);
    }

    [Fact]
    public void TrainerOptions_AbsurdSettings_ThrowInvalidConfiguration()
    {
        Assert.Equal(TrainerErrorCode.InvalidConfiguration,
            Assert.Throws<EdgeTrainerException>(() => new TrainingLoop(new TrainerOptions { Epochs = 0 })).Code);
        Assert.Equal(TrainerErrorCode.InvalidConfiguration,
            Assert.Throws<EdgeTrainerException>(() => new TrainingLoop(new TrainerOptions { LearningRates = new() { BaseLearningRate = double.NaN } })).Code);
    }
}
