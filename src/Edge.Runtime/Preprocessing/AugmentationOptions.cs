namespace EdgeTL.Runtime.Preprocessing;

/// <summary>
/// Training-time augmentation, torchvision style: RandomResizedCrop, horizontal flip,
/// and brightness/contrast jitter. Applied only when the pipeline is asked to augment.
/// </summary>
public sealed record AugmentationOptions
{
    /// <summary>No augmentation at all.</summary>
    public static AugmentationOptions None { get; } = new() { CropScaleMin = 1f, CropScaleMax = 1f, CropRatioMin = 1f, CropRatioMax = 1f, FlipProbability = 0f, Brightness = 0f, Contrast = 0f };

    /// <summary>Lower bound of the crop's area as a fraction of the image (torchvision default 0.08; small images like 0.7).</summary>
    public float CropScaleMin { get; init; } = 0.7f;
    /// <summary>Upper bound of the crop's area fraction.</summary>
    public float CropScaleMax { get; init; } = 1f;
    /// <summary>Lowest aspect ratio (w/h) of the crop.</summary>
    public float CropRatioMin { get; init; } = 3f / 4f;
    /// <summary>Highest aspect ratio (w/h) of the crop.</summary>
    public float CropRatioMax { get; init; } = 4f / 3f;
    /// <summary>Probability of a horizontal flip.</summary>
    public float FlipProbability { get; init; } = 0.5f;
    /// <summary>Brightness factor drawn from [1−b, 1+b].</summary>
    public float Brightness { get; init; } = 0.2f;
    /// <summary>Contrast factor drawn from [1−c, 1+c], around the image's mean.</summary>
    public float Contrast { get; init; } = 0.2f;
    /// <summary>Extra transforms (domain shifts, noise…) applied after jitter, before normalization.</summary>
    public IReadOnlyList<IImageAugmentation> Extra { get; init; } = [];
}
