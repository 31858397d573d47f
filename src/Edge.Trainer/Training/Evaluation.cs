using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace EdgeTL.Trainer.Training;

/// <summary>Loss, accuracy and predictions of a model over a dataset, in evaluation mode.</summary>
public sealed record EvaluationResult(double Loss, double Accuracy, int[] Predictions, int[] Labels);

/// <summary>Runs a model over batches without gradients.</summary>
public static class Evaluation
{
    /// <summary>Evaluates <paramref name="model"/>; its training mode is restored afterwards.</summary>
    public static EvaluationResult Evaluate(ITrainable model, ITensorBatches batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        bool wasTraining = model.Network.training;
        model.SetTrainingMode(false);
        var predictions = new List<int>(batches.SampleCount);
        var labels = new List<int>(batches.SampleCount);
        double lossSum = 0;
        try
        {
            using var noGrad = no_grad();
            foreach (var (inputs, target) in batches.Epoch(0))
            {
                using var ownedInputs = inputs;
                using var ownedTarget = target;
                using var scope = NewDisposeScope();
                var logits = model.Network.forward(inputs);
                lossSum += nn.functional.cross_entropy(logits, target, reduction: nn.Reduction.Sum).item<float>();
                using (var predicted = logits.argmax(1).data<long>())
                    predictions.AddRange(predicted.Select(p => (int)p));
                using (var truth = target.data<long>())
                    labels.AddRange(truth.Select(l => (int)l));
            }
        }
        finally
        {
            model.SetTrainingMode(wasTraining);
        }
        if (labels.Count == 0)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, "Nothing to evaluate.");
        int correct = predictions.Zip(labels).Count(p => p.First == p.Second);
        return new EvaluationResult(lossSum / labels.Count, (double)correct / labels.Count, [.. predictions], [.. labels]);
    }
}
