using EdgeTL.Runtime;
using EdgeTL.Runtime.Data;
using EdgeTL.Runtime.Preprocessing;

namespace EdgeTL.Runtime.Tests.Data;

public sealed class BatchLoaderTests
{
    private static readonly LabeledImageSet Test = FashionMnist.LoadTest();
    private static readonly ImagePipeline Pipeline = new(new ImagePipelineOptions { InputSize = 32 });

    [Fact]
    public void Epoch_Shuffled_VisitsEverySampleOnce()
    {
        var loader = new BatchLoader(Test, Pipeline, 64, shuffle: true, augment: false, seed: 1);
        var seen = loader.Epoch(0).SelectMany(b => b.Indices.Take(b.Count).ToArray()).ToList();
        Assert.Equal(1000, seen.Count);
        Assert.Equal(Enumerable.Range(0, 1000), seen.Order());
        Assert.NotEqual(Enumerable.Range(0, 1000), seen);
        Assert.Equal(16, loader.BatchesPerEpoch);
    }

    [Fact]
    public void Epoch_SameSeedAndEpoch_SameOrder_NextEpoch_Differs()
    {
        var a = new BatchLoader(Test, Pipeline, 100, true, false, seed: 7);
        var b = new BatchLoader(Test, Pipeline, 100, true, false, seed: 7);
        int[] Order(BatchLoader l, int epoch) => l.Epoch(epoch).SelectMany(x => x.Indices.Take(x.Count).ToArray()).ToArray();
        Assert.Equal(Order(a, 0), Order(b, 0));
        Assert.NotEqual(Order(a, 0), Order(a, 1));
    }

    [Fact]
    public void Epoch_DropLast_SkipsIncompleteBatch()
    {
        var loader = new BatchLoader(Test, Pipeline, 300, shuffle: false, augment: false, seed: 0, dropLast: true);
        Assert.Equal([300, 300, 300], loader.Epoch(0).Select(b => b.Count).ToArray());
    }

    [Fact]
    public void Epoch_Labels_MatchSourceSamples()
    {
        var loader = new BatchLoader(Test, Pipeline, 33, shuffle: true, augment: true, seed: 2);
        foreach (var batch in loader.Epoch(0))
        {
            for (int i = 0; i < batch.Count; i++)
                Assert.Equal(Test.Labels[batch.Indices[i]], batch.Labels[i]);
        }
    }

    [Fact]
    public void Constructor_EmptySet_ThrowsEmptyDataset()
    {
        var empty = new LabeledImageSet([], [], 28, 28, 1, ["a"]);
        var e = Assert.Throws<EdgeRuntimeException>(() => new BatchLoader(empty, Pipeline, 8, true, false, 0));
        Assert.Equal(RuntimeErrorCode.EmptyDataset, e.Code);
    }
}
