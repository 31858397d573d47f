using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Preprocessing;
using EdgeTL.Trainer.Data;

namespace EdgeTL.Trainer.Tests;

/// <summary>The bundled Fashion-MNIST subset, loaded once per test run.</summary>
internal static class TestData
{
    private static readonly Lazy<LabeledImageSet> LazyTrain = new(() => FashionMnist.LoadTrain());
    private static readonly Lazy<LabeledImageSet> LazyTest = new(() => FashionMnist.LoadTest());

    public static LabeledImageSet Train => LazyTrain.Value;
    public static LabeledImageSet Test => LazyTest.Value;

    public static ImagePipeline Pipeline(int size = 32) => new(new ImagePipelineOptions { InputSize = size });

    /// <summary>Real images as batches: <paramref name="count"/> test images of every class, 32×32.</summary>
    public static ImageTensorBatches Batches(int perClass, int batchSize, bool augment = false, int seed = 0, int size = 32) =>
        new(new BatchLoader(Test.SamplePerClass(perClass, seed), Pipeline(size), batchSize, shuffle: true, augment, seed));
}
