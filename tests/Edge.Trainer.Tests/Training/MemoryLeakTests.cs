using System.Diagnostics;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;

namespace EdgeTL.Trainer.Tests.Training;

public sealed class MemoryLeakTests
{
    [Fact]
    public void Fit_ThousandSteps_ResidentMemoryGrowsLessThan50MB()
    {
        using var model = TransferModel.Create("mobilenet_v3_small", 10, seed: 0);
        var batches = TestData.Batches(perClass: 4, batchSize: 8);
        var trainer = new TrainingLoop(new TrainerOptions { Epochs = 20, LearningRates = new() { BaseLearningRate = 1e-4 } });
        trainer.Fit(model, batches);
        long before = ResidentBytes();

        long steps = 0;
        for (int round = 0; round < 10; round++)
            steps += trainer.Fit(model, batches).Steps;

        long growth = ResidentBytes() - before;
        Assert.Equal(1000, steps);
        Assert.True(growth < 50L * 1024 * 1024, $"RSS grew by {growth / (1024.0 * 1024):F1} MB over {steps} steps");
    }

    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return self.WorkingSet64;
    }
}
