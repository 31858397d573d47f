namespace EdgeTL.Agent.Learning;

/// <summary>Features [Count × Dim] (row-major) with class indices into <see cref="Classes"/>, and the store ids of the samples.</summary>
public sealed record LabelledFeatures(float[] Features, int[] Labels, int Dim, IReadOnlyList<string> Classes, long[] SampleIds)
{
    /// <summary>The newest sample id among the rows (0 when empty).</summary>
    public long NewestSampleId => SampleIds.Length == 0 ? 0 : SampleIds.Max();

    /// <summary>Rows.</summary>
    public int Count => Labels.Length;

    /// <summary>The rows at <paramref name="indices"/>.</summary>
    public LabelledFeatures Subset(IReadOnlyList<int> indices)
    {
        var features = new float[indices.Count * Dim];
        for (int i = 0; i < indices.Count; i++)
            Array.Copy(Features, indices[i] * Dim, features, i * Dim, Dim);
        return this with { Features = features, Labels = [.. indices.Select(i => Labels[i])], SampleIds = [.. indices.Select(i => SampleIds[i])] };
    }

    /// <summary>
    /// The fixed split (<see cref="HoldoutSplit"/>): the rows whose sample id belongs to the
    /// holdout, and the rest to train on. Either part may be empty.
    /// </summary>
    public (LabelledFeatures Train, LabelledFeatures Holdout) SplitByHoldout()
    {
        var rows = Enumerable.Range(0, Count).ToLookup(i => HoldoutSplit.IsHoldout(SampleIds[i]));
        return (Subset([.. rows[false]]), Subset([.. rows[true]]));
    }
}
