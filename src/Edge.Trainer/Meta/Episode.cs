namespace EdgeTL.Trainer.Meta;

/// <summary>
/// One N-way K-shot task: indices into a labelled set, with labels renumbered 0…N−1 in the order
/// of <see cref="Classes"/>. Support rows adapt the head; query rows score the adaptation.
/// </summary>
public sealed record Episode(int[] Classes, int[] SupportIndices, long[] SupportLabels, int[] QueryIndices, long[] QueryLabels)
{
    /// <summary>N, the number of classes.</summary>
    public int Ways => Classes.Length;
}
