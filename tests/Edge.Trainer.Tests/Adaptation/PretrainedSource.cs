using EdgeTL.Trainer.Experiments;
using EdgeTL.Trainer.Models;

namespace EdgeTL.Trainer.Tests.Adaptation;

/// <summary>A resnet18 pretrained briefly (2 epochs, 200 images per class) on Fashion-MNIST classes 0–4 at 32 px, shared by the shift tests.</summary>
public sealed class PretrainedSource : IDisposable
{
    public const string Name = "pretrained source model";

    public PretrainedSource()
    {
        Options = new PretrainOptions { Epochs = 2 };
        (Model, var result) = SourcePretraining.Run(TestData.Train.SelectClasses([0, 1, 2, 3, 4]).SamplePerClass(200, 0), TestData.Test, Options);
        SourceAccuracy = result.Test.Accuracy;
    }

    public PretrainOptions Options { get; }

    public TransferModel Model { get; }

    public double SourceAccuracy { get; }

    public void Dispose() => Model.Dispose();
}

[CollectionDefinition(PretrainedSource.Name)]
public sealed class PretrainedSourceGroup : ICollectionFixture<PretrainedSource>;
