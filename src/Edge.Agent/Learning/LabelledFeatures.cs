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
    /// A stratified split: every class with at least <paramref name="minimumForHoldout"/> rows
    /// gives ⌈<paramref name="fraction"/> × n⌉ of them to the holdout; the rest train.
    /// </summary>
    public (LabelledFeatures Train, LabelledFeatures? Holdout) Split(double fraction, int minimumForHoldout, int seed)
    {
        var random = new Random(seed);
        var train = new List<int>();
        var holdout = new List<int>();
        foreach (var group in Enumerable.Range(0, Count).GroupBy(i => Labels[i]))
        {
            int[] rows = [.. group.OrderBy(_ => random.Next())];
            int held = rows.Length >= minimumForHoldout ? (int)Math.Ceiling(fraction * rows.Length) : 0;
            holdout.AddRange(rows[..held]);
            train.AddRange(rows[held..]);
        }
        return (Subset(train), holdout.Count > 0 ? Subset(holdout) : null);
    }
}
