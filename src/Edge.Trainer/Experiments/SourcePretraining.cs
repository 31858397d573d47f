using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Data;
using EdgeTL.Trainer.Metrics;
using EdgeTL.Trainer.Models;
using EdgeTL.Trainer.Training;

namespace EdgeTL.Trainer.Experiments;

/// <summary>Trains a zoo backbone (with the seed head) from scratch on the source classes.</summary>
public static class SourcePretraining
{
    /// <summary>Pretrains (10% of the source training data held out for validation) and returns the model with its metrics; writes the checkpoint if one is set.</summary>
    public static (TransferModel Model, PretrainResult Result) Run(LabeledImageSet train, LabeledImageSet test, PretrainOptions options,
        IProgress<EpochMetrics>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        var (source, validation) = train.SelectClasses(options.Classes).SplitPerClass(0.1, options.Seed);
        var pipeline = Pipeline(options);
        var model = TransferModel.Create(options.Architecture, source.ClassCount, seed: options.Seed);
        var trainBatches = new ImageTensorBatches(new BatchLoader(source, pipeline, options.BatchSize, shuffle: true, augment: true, options.Seed, dropLast: true));
        var training = new TrainingLoop(options.ToTrainerOptions()).Fit(model, trainBatches,
            validation: ImageTensorBatches.ForEvaluation(validation, pipeline), progress: progress, cancellationToken: cancellationToken);
        return (model, new PretrainResult(options, training, EvaluateOnSource(model, test, options), source.ClassNames));
    }

    /// <summary>Scores a pretrained model on the held-out test images of its source classes.</summary>
    public static ClassificationReport EvaluateOnSource(TransferModel model, LabeledImageSet test, PretrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        var sourceTest = test.SelectClasses(options.Classes);
        var eval = Evaluation.Evaluate(model, ImageTensorBatches.ForEvaluation(sourceTest, Pipeline(options)));
        return ClassificationReport.From(eval.Predictions, eval.Labels, sourceTest.ClassCount);
    }

    private static ImagePipeline Pipeline(PretrainOptions options) =>
        new(new ImagePipelineOptions { InputSize = options.InputSize });
}
