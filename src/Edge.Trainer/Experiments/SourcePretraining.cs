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
        var sourceTest = test.SelectClasses(options.Classes);
        var pipeline = new ImagePipeline(new ImagePipelineOptions { InputSize = options.InputSize });
        var model = TransferModel.Create(options.Architecture, source.ClassCount, seed: options.Seed);
        var trainBatches = new ImageTensorBatches(new BatchLoader(source, pipeline, options.BatchSize, shuffle: true, augment: true, options.Seed, dropLast: true));
        var validationBatches = new ImageTensorBatches(new BatchLoader(validation, pipeline, 256, shuffle: false, augment: false, 0));
        var testBatches = new ImageTensorBatches(new BatchLoader(sourceTest, pipeline, 256, shuffle: false, augment: false, 0));
        var training = new TrainingLoop(options.ToTrainerOptions()).Fit(model, trainBatches, validation: validationBatches, progress: progress, cancellationToken: cancellationToken);
        var eval = Evaluation.Evaluate(model, testBatches);
        var report = ClassificationReport.From(eval.Predictions, eval.Labels, source.ClassCount);
        return (model, new PretrainResult(options, training, report, source.ClassNames));
    }
}
