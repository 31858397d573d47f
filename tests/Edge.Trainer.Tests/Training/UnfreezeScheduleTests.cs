using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;

namespace EdgeTL.Trainer.Tests.Training;

public sealed class UnfreezeScheduleTests
{
    [Fact]
    public void Fit_SeedPreset_TrainableSetAndRatesPerEpochAreExact()
    {
        using var model = TransferModel.Create("resnet18", 10, seed: 0);
        var options = new TrainerOptions
        {
            Epochs = 12,
            Schedule = LrScheduleKind.Constant,
            LearningRates = new LearningRatePolicy { BaseLearningRate = 1e-4, HeadMultiplier = 10, LayerDecay = 0.5 },
            Unfreeze = UnfreezeSchedule.SeedPreset,
        };
        var result = new TrainingLoop(options).Fit(model, TestData.Batches(perClass: 1, batchSize: 10));

        Assert.Equal(12, result.Epochs.Count);
        foreach (var e in result.Epochs)
        {
            string[] expected = e.Epoch switch
            {
                < 5 => ["head"],
                < 10 => ["stage4", "head"],
                _ => ["stage3", "stage4", "head"],
            };
            Assert.Equal(expected, e.TrainableGroups);
            Assert.Equal(expected.Order(), e.LearningRates.Keys.Order());
            Assert.Equal(1e-3, e.LearningRates["head"], 12);
            if (e.Epoch >= 5)
                Assert.Equal(1e-4, e.LearningRates["stage4"], 12);
            if (e.Epoch >= 10)
                Assert.Equal(5e-5, e.LearningRates["stage3"], 12);
        }
        Assert.Equal(["stage3", "stage4", "head"], model.TrainableGroups());
    }

    [Fact]
    public void Fit_CosineSchedule_ScalesEveryGroupFromItsOwnRate()
    {
        using var model = TransferModel.Create("mobilenet_v3_small", 10, seed: 0);
        var options = new TrainerOptions
        {
            Epochs = 4,
            Schedule = LrScheduleKind.Cosine,
            LearningRates = new LearningRatePolicy { BaseLearningRate = 2e-4 },
            Unfreeze = new UnfreezeSchedule([new UnfreezeStep(2, ["stage4"])]),
        };
        var result = new TrainingLoop(options).Fit(model, TestData.Batches(perClass: 1, batchSize: 10));
        for (int epoch = 0; epoch < 4; epoch++)
        {
            double factor = 0.5 * (1 + Math.Cos(Math.PI * epoch / 4));
            Assert.Equal(2e-3 * factor, result.Epochs[epoch].LearningRates["head"], 12);
            if (epoch >= 2)
                Assert.Equal(2e-4 * factor, result.Epochs[epoch].LearningRates["stage4"], 12);
        }
    }

    [Fact]
    public void A_resumed_run_starts_at_its_epoch_with_the_groups_opened_before_it_the_schedule_rate_there_and_a_checkpoint_each_epoch()
    {
        using var model = TransferModel.Create("resnet18", 10, seed: 0);
        string checkpoint = Path.Combine(Path.GetTempPath(), $"edgetl-epoch-{Guid.NewGuid():N}.bin");
        var options = new TrainerOptions
        {
            Epochs = 5,
            StartEpoch = 3,
            Schedule = LrScheduleKind.Cosine,
            LearningRates = new LearningRatePolicy { BaseLearningRate = 1e-4 },
            Unfreeze = new UnfreezeSchedule([new UnfreezeStep(1, ["stage4"]), new UnfreezeStep(2, ["stage3"]), new UnfreezeStep(4, ["stage2"])]),
            EpochCheckpointPath = checkpoint,
        };
        try
        {
            var saved = new List<bool>();
            var result = new TrainingLoop(options).Fit(model, TestData.Batches(perClass: 1, batchSize: 10),
                progress: new SyncProgress<EpochMetrics>(_ => saved.Add(File.Exists(checkpoint))));
            Assert.Equal([3, 4], result.Epochs.Select(e => e.Epoch));
            Assert.Equal(["stage3", "stage4", "head"], result.Epochs[0].TrainableGroups);
            Assert.Equal(["stage2", "stage3", "stage4", "head"], result.Epochs[1].TrainableGroups);
            Assert.Equal(1e-3 * 0.5 * (1 + Math.Cos(Math.PI * 3 / 5)), result.Epochs[0].LearningRates["head"], 12);
            Assert.Equal([true, true], saved);   // written before each epoch is reported
            using var reloaded = TransferModel.Create("resnet18", 10, seed: 1);
            Checkpoint.Load(reloaded, checkpoint);
            Assert.Equal(model.state_dict()["head.3.weight"].data<float>().ToArray(), reloaded.state_dict()["head.3.weight"].data<float>().ToArray());

            var outside = Assert.Throws<EdgeTrainerException>(() => new TrainingLoop(options with { StartEpoch = 5 }).Fit(model, TestData.Batches(perClass: 1, batchSize: 10)));
            Assert.Equal(TrainerErrorCode.InvalidConfiguration, outside.Code);
        }
        finally
        {
            File.Delete(checkpoint);
        }
    }

    [Fact]
    public void Progressive_BuildsStepsTopDown()
    {
        var schedule = UnfreezeSchedule.Progressive(warmupEpochs: 3, every: 2, lowest: "stage2");
        Assert.Equal([new UnfreezeStep(3, ["stage4"]).Epoch, 5, 7], schedule.Steps.Select(s => s.Epoch));
        Assert.Equal(["stage4", "stage3", "stage2"], schedule.Steps.Select(s => s.Groups.Single()));
    }

    [Fact]
    public void Fit_ScheduleNamesUnknownGroup_ThrowsBeforeTraining()
    {
        using var model = TransferModel.Create("resnet18", 10);
        var options = new TrainerOptions { Epochs = 2, Unfreeze = new UnfreezeSchedule([new UnfreezeStep(1, ["layer4"])]) };
        var e = Assert.Throws<EdgeTrainerException>(() => new TrainingLoop(options).Fit(model, TestData.Batches(1, 10)));
        Assert.Equal(TrainerErrorCode.UnknownLayerGroup, e.Code);
    }

    [Fact]
    public void RateFor_DefaultPolicy_HeadIsTenTimesBackbone()
    {
        using var model = TransferModel.Create("resnet18", 10);
        var policy = new LearningRatePolicy { BaseLearningRate = 3e-4 };
        Assert.Equal(3e-3, policy.RateFor(model.Group("head"), model.Groups), 12);
        Assert.Equal(3e-4, policy.RateFor(model.Group("stem"), model.Groups), 12);
        var overridden = policy with { Overrides = new Dictionary<string, double> { ["stage1"] = 7e-6 } };
        Assert.Equal(7e-6, overridden.RateFor(model.Group("stage1"), model.Groups), 12);
    }
}
