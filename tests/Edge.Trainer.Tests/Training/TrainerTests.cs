using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Tests.Training;

public sealed class TrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-trainer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Fit_HeadOnCachedFeatures_LossFallsAndCurvesAreRecorded()
    {
        using var backbone = EdgeTL.Trainer.Backbones.BackboneZoo.Create("resnet18", seed: 0);
        using var train = FeatureExtraction.Extract(backbone, TestData.Batches(perClass: 10, batchSize: 50), 10);
        using var validation = FeatureExtraction.Extract(backbone, TestData.Batches(perClass: 5, batchSize: 50, seed: 9), 10);
        Assert.Equal([100L, 512L], train.Features.shape);
        using var head = HeadModel.Create(train.Dim, 10);
        var result = new TrainingLoop(new TrainerOptions { Epochs = 30, LearningRates = new() { BaseLearningRate = 1e-3, HeadMultiplier = 1 } })
            .Fit(head, train.Batches(20, true, 0), validation: validation.Batches(100, false, 0));
        Assert.Equal(30, result.Epochs.Count);
        Assert.True(result.Epochs[^1].TrainLoss < result.Epochs[0].TrainLoss * 0.7, $"{result.Epochs[0].TrainLoss} → {result.Epochs[^1].TrainLoss}");
        Assert.All(result.Epochs, e => Assert.NotNull(e.ValidationAccuracy));
        Assert.Equal(result.Epochs.Min(e => e.ValidationLoss), result.Best.ValidationLoss);
    }

    [Fact]
    public void Fit_NaNInWeights_StopsWithNonFiniteLossBeforeStepping()
    {
        using var head = HeadModel.Create(8, 3);
        using (no_grad())
            head.Head.parameters().First()[0, 0] = tensor(float.NaN);
        var snapshot = head.parameters().Select(p => p.clone()).ToList();
        using var features = new FeatureSet(randn(6, 8), tensor(new long[] { 0, 1, 2, 0, 1, 2 }), 3);
        var e = Assert.Throws<EdgeTrainerException>(() => new TrainingLoop(new TrainerOptions { Epochs = 1 }).Fit(head, features.Batches(6, false, 0)));
        Assert.Equal(TrainerErrorCode.NonFiniteLoss, e.Code);
        foreach (var (p, before) in head.parameters().Zip(snapshot))
            Assert.True(p.allclose(before, equal_nan: true), "a parameter changed after a NaN loss");
    }

    [Fact]
    public void Fit_EarlyStopping_StopsWhenValidationStopsImproving()
    {
        using var head = HeadModel.Create(16, 2);
        manual_seed(0);
        using var train = new FeatureSet(randn(64, 16), randint(0, 2, [64]), 2);
        using var validation = new FeatureSet(randn(64, 16), randint(0, 2, [64]), 2);
        var result = new TrainingLoop(new TrainerOptions { Epochs = 200, EarlyStoppingPatience = 3, Schedule = LrScheduleKind.Constant, LearningRates = new() { BaseLearningRate = 1e-2, HeadMultiplier = 1 } })
            .Fit(head, train.Batches(16, true, 0), validation.Batches(64, false, 0));
        Assert.True(result.StoppedEarly);
        Assert.True(result.Epochs.Count < 200);
        Assert.Equal(result.BestEpoch + 3, result.Epochs[^1].Epoch);
    }

    [Fact]
    public void Fit_Checkpoint_IsWrittenAtomicallyAndLoadsBack()
    {
        var path = Path.Combine(_dir, "ck", "head.bin");
        using var head = HeadModel.Create(8, 3);
        using var train = new FeatureSet(randn(30, 8), randint(0, 3, [30]), 3);
        new TrainingLoop(new TrainerOptions { Epochs = 3, CheckpointPath = path }).Fit(head, train.Batches(10, true, 0), train.Batches(30, false, 0));
        Assert.True(File.Exists(path));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
        using var loaded = HeadModel.Create(8, 3);
        Checkpoint.Load(loaded, path);
        Assert.True(loaded.parameters().Zip(head.parameters()).All(p => TestData.Same(p.First, p.Second)));
    }

    /// <summary>
    /// Regression: checkpoints written during a channels-last run failed with "Bytes() called on
    /// non-contiguous tensor" (the README's pretrain command crashed after its first epoch).
    /// </summary>
    [Theory]
    [InlineData(EdgeTL.Trainer.Training.Precision.PrecisionMode.Fp32)]
    [InlineData(EdgeTL.Trainer.Training.Precision.PrecisionMode.Bf16)]
    public void Fit_ConvModelChannelsLastWithCheckpoint_WritesTheBestWeightsContiguously(EdgeTL.Trainer.Training.Precision.PrecisionMode precision)
    {
        var path = Path.Combine(_dir, $"conv-{precision}.bin");
        using var model = TransferModel.Create("resnet18", 10, seed: 3);
        var options = new TrainerOptions { Epochs = 2, CheckpointPath = path, MemoryFormat = MemoryFormat.ChannelsLast, Precision = precision };
        new TrainingLoop(options).Fit(model, TestData.Batches(perClass: 2, batchSize: 10), TestData.Batches(perClass: 1, batchSize: 10, seed: 4));
        using var loaded = TransferModel.Create("resnet18", 10, seed: 5);
        Checkpoint.Load(loaded, path);
        // RestoreBest puts the best epoch's weights back, the same ones the checkpoint holds.
        Assert.True(loaded.parameters().Zip(model.parameters()).All(p => TestData.Same(p.First, p.Second)));
        Assert.All(model.parameters(), p => Assert.True(p.is_contiguous()));
    }

    [Fact]
    public void Load_CorruptCheckpoint_ThrowsInvalidCheckpoint()
    {
        var path = Path.Combine(_dir, "bad.bin");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        using var head = HeadModel.Create(8, 3);
        Assert.Equal(TrainerErrorCode.InvalidCheckpoint, Assert.Throws<EdgeTrainerException>(() => Checkpoint.Load(head, path)).Code);
    }

    [Fact]
    public void Fit_Cancelled_ThrowsOperationCanceled()
    {
        using var head = HeadModel.Create(8, 3);
        using var train = new FeatureSet(randn(30, 8), randint(0, 3, [30]), 3);
        using var cts = new CancellationTokenSource();
        var progress = new Progress(cts.Cancel);
        Assert.ThrowsAny<OperationCanceledException>(() => new TrainingLoop(new TrainerOptions { Epochs = 50 }).Fit(head, train.Batches(10, true, 0), progress: progress, cancellationToken: cts.Token));
        Assert.Equal(1, progress.Reports);
    }

    [Fact]
    public void Fit_TargetSet_IsTrackedBesideSource()
    {
        using var head = HeadModel.Create(8, 3);
        using var source = new FeatureSet(randn(30, 8), randint(0, 3, [30]), 3);
        using var target = new FeatureSet(randn(30, 8) + 2, randint(0, 3, [30]), 3);
        var result = new TrainingLoop(new TrainerOptions { Epochs = 2 }).Fit(head, source.Batches(10, true, 0), source.Batches(30, false, 0), target.Batches(30, false, 0));
        Assert.All(result.Epochs, e =>
        {
            Assert.NotNull(e.TargetLoss);
            Assert.NotEqual(e.ValidationLoss, e.TargetLoss);
        });
    }

    [Fact]
    public void Fit_SgdWithStepSchedule_DecaysRateAndLearns()
    {
        manual_seed(1);
        var centres = randn(3, 8) * 3;
        var labels = randint(0, 3, [90]);
        using var train = new FeatureSet(centres.index_select(0, labels) + randn(90, 8), labels, 3);
        using var head = HeadModel.Create(8, 3, new HeadOptions { Hidden = 32, Dropout = 0 });
        var result = new TrainingLoop(new TrainerOptions
        {
            Epochs = 6,
            Optimizer = OptimizerKind.Sgd,
            Schedule = LrScheduleKind.Step,
            StepSize = 2,
            StepGamma = 0.5,
            LearningRates = new() { BaseLearningRate = 0.05, HeadMultiplier = 1 },
        }).Fit(head, train.Batches(15, true, 0));
        Assert.Equal([0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125], result.Epochs.Select(e => Math.Round(e.LearningRates["head"], 10)));
        Assert.True(result.Epochs[^1].TrainAccuracy > 0.9, $"accuracy {result.Epochs[^1].TrainAccuracy:P1}");
    }

    private sealed class Progress(Action onReport) : IProgress<EpochMetrics>
    {
        public int Reports { get; private set; }

        public void Report(EpochMetrics value)
        {
            Reports++;
            onReport();
        }
    }
}
