using EdgeTL.Agent.Learning;

namespace EdgeTL.Agent.Tests.Learning;

/// <summary>The fixed holdout: decided by the sample id alone, about 28 % of the ids, the same side for an id however the set grows.</summary>
public sealed class HoldoutSplitTests
{
    [Fact]
    public void About_28_percent_of_ids_fall_in_the_holdout_and_each_id_always_on_the_same_side()
    {
        var first = Enumerable.Range(1, 20_000).Select(i => HoldoutSplit.IsHoldout(i)).ToArray();
        var again = Enumerable.Range(1, 20_000).Select(i => HoldoutSplit.IsHoldout(i)).ToArray();

        Assert.Equal(first, again);
        Assert.InRange(first.Count(h => h) / 20_000.0, 0.27, 0.29);
        // No stripes: consecutive ids are not all on one side in any window of 50.
        Assert.All(Enumerable.Range(0, 400), w => Assert.InRange(first.Skip(w * 50).Take(50).Count(h => h), 3, 30));
    }

    [Fact]
    public void A_growing_set_keeps_every_earlier_row_on_its_side_and_the_parts_partition_it()
    {
        var small = Set(40);
        var large = Set(200);

        var (smallTrain, smallHoldout) = small.SplitByHoldout();
        var (largeTrain, largeHoldout) = large.SplitByHoldout();

        Assert.Equal(40, smallTrain.Count + smallHoldout.Count);
        Assert.Equal(200, largeTrain.Count + largeHoldout.Count);
        Assert.Empty(largeTrain.SampleIds.Intersect(largeHoldout.SampleIds));
        Assert.Equal(smallHoldout.SampleIds, largeHoldout.SampleIds.Where(id => id <= 40));
        Assert.Equal(smallTrain.SampleIds, largeTrain.SampleIds.Where(id => id <= 40));
        // Features and labels travel with their rows.
        int row = Array.IndexOf(large.SampleIds, largeHoldout.SampleIds[0]);
        Assert.Equal(large.Labels[row], largeHoldout.Labels[0]);
        Assert.Equal(large.Features[(row * 3)..(row * 3 + 3)], largeHoldout.Features[..3]);
    }

    private static LabelledFeatures Set(int count) =>
        new([.. Enumerable.Range(0, count * 3).Select(i => (float)i)], [.. Enumerable.Range(0, count).Select(i => i % 2)], 3, ["a", "b"],
            [.. Enumerable.Range(1, count).Select(i => (long)i)]);
}
