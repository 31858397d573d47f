namespace EdgeTL.Runtime.Preprocessing;

/// <summary>How raw images become model inputs: size, channels, crop and normalization.</summary>
public sealed record ImagePipelineOptions
{
    /// <summary>Square side of the model input (≥ 32 for the zoo backbones).</summary>
    public int InputSize { get; init; } = 32;
    /// <summary>Channels the model expects; grayscale inputs are repeated to fill them.</summary>
    public int Channels { get; init; } = 3;
    /// <summary>
    /// Fraction of the image kept by the evaluation centre crop (1 = resize the whole image;
    /// 0.875 = torchvision's resize-256-then-crop-224).
    /// </summary>
    public float CenterCropFraction { get; init; } = 1f;
    /// <summary>Model channel order: false = RGB (torchvision), true = BGR (Caffe/CNTK-style models).</summary>
    public bool Bgr { get; init; }
    /// <summary>Mean/std taken from the backbone's pretraining, in the model's channel order.</summary>
    public Normalization Normalization { get; init; } = Normalization.ImageNet;
    /// <summary>Augmentation used when a batch is requested with augmentation.</summary>
    public AugmentationOptions Augmentation { get; init; } = new();
}
