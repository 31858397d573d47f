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

    /// <summary>True when two tensors have the same shape and bitwise-equal elements.</summary>
    public static bool Same(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.equal(b).all().item<bool>();

    /// <summary>Real images as batches: <paramref name="count"/> test images of every class, 32×32.</summary>
    public static ImageTensorBatches Batches(int perClass, int batchSize, bool augment = false, int seed = 0, int size = 32) =>
        new(new BatchLoader(Test.SamplePerClass(perClass, seed), Pipeline(size), batchSize, shuffle: true, augment, seed));
}
