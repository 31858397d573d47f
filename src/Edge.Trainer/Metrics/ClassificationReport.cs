namespace EdgeTL.Trainer.Metrics;

/// <summary>Accuracy overall and per class, and the confusion matrix (rows: true class, columns: predicted).</summary>
public sealed record ClassificationReport(double Accuracy, double[] PerClassAccuracy, int[,] Confusion)
{
    /// <summary>Builds the report from predictions and true labels in [0, classes).</summary>
    public static ClassificationReport From(IReadOnlyList<int> predictions, IReadOnlyList<int> labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(labels);
        if (predictions.Count != labels.Count)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape, $"{predictions.Count} predictions for {labels.Count} labels.");
        if (labels.Count == 0)
            throw new EdgeTrainerException(TrainerErrorCode.EmptyDataset, "No predictions to score.");
        var confusion = new int[classes, classes];
        for (int i = 0; i < labels.Count; i++)
        {
            if ((uint)labels[i] >= (uint)classes || (uint)predictions[i] >= (uint)classes)
                throw new EdgeTrainerException(TrainerErrorCode.LabelOutOfRange, $"Sample {i}: label {labels[i]} or prediction {predictions[i]} outside [0, {classes}).");
            confusion[labels[i], predictions[i]]++;
        }
        var perClass = new double[classes];
        int correct = 0;
        for (int c = 0; c < classes; c++)
        {
            int total = 0;
            for (int p = 0; p < classes; p++)
                total += confusion[c, p];
            perClass[c] = total == 0 ? double.NaN : (double)confusion[c, c] / total;
            correct += confusion[c, c];
        }
        return new ClassificationReport((double)correct / labels.Count, perClass, confusion);
    }
}
