namespace EdgeTL.Runtime.Preprocessing;

/// <summary>
/// Per-channel input normalization, x' = (x/255 − mean) / std, in RGB order.
/// It must match what the backbone saw in pretraining (timm calls this the pretrained cfg).
/// </summary>
public sealed record Normalization(float[] Mean, float[] Std)
{
    /// <summary>torchvision's ImageNet statistics, used by every zoo backbone.</summary>
    public static Normalization ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>No change beyond scaling to [0, 1].</summary>
    public static Normalization Identity { get; } = new([0f, 0f, 0f], [1f, 1f, 1f]);

    /// <summary>Throws when the statistics do not describe <paramref name="channels"/> channels.</summary>
    public void Validate(int channels)
    {
        if (Mean.Length != channels || Std.Length != channels)
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument,
                $"Normalization has {Mean.Length} means and {Std.Length} stds for {channels} channels.");
        if (Std.Any(s => !(s > 0f) || float.IsInfinity(s)) || Mean.Any(m => !float.IsFinite(m)))
            throw new EdgeRuntimeException(RuntimeErrorCode.InvalidArgument, "Normalization needs finite means and positive, finite stds.");
    }
}
