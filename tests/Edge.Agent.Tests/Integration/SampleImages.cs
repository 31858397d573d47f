using System.Text.Json.Nodes;
using EdgeTL.Runtime.Data;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>Real Fashion-MNIST images as the PNG bytes a device would send.</summary>
public static class SampleImages
{
    private static readonly Lazy<LabeledImageSet> Train = new(() => FashionMnist.LoadTrain());

    /// <summary><paramref name="perClass"/> training images of each of classes 0–4, shuffled with <paramref name="seed"/>.</summary>
    public static LabeledImageSet FirstFiveClasses(int perClass, int seed) => Train.Value.SelectClasses([0, 1, 2, 3, 4]).SamplePerClass(perClass, seed);

    /// <summary>A real shift: the same garments with inverted intensities (255 − value).</summary>
    public static LabeledImageSet Inverted(LabeledImageSet set) => set.Inverted();

    public static byte[] Png(LabeledImageSet set, int index) => set.EncodePng(index);

    public static JsonObject IngestArgs(LabeledImageSet set, int index, bool labelled, string domain) => new()
    {
        ["image"] = Convert.ToBase64String(Png(set, index)),
        ["label"] = labelled ? set.ClassNames[set.Labels[index]] : null,
        ["domain"] = domain,
    };
}
