namespace EdgeTL.Runtime.Preprocessing;

/// <summary>
/// A transform on one image in CHW float layout with values in [0, 1], before normalization.
/// Domain-specific shifts (blur, noise, colour casts) plug into the pipeline through this.
/// </summary>
public interface IImageAugmentation
{
    /// <summary>Transforms <paramref name="chw"/> in place: <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>.</summary>
    void Apply(Span<float> chw, int channels, int height, int width, Random random);
}
