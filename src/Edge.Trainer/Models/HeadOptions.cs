namespace EdgeTL.Trainer.Models;

/// <summary>The classifier head <c>Linear(d, Hidden) → ReLU → Dropout(Dropout) → Linear(Hidden, classes)</c>.</summary>
public sealed record HeadOptions
{
    /// <summary>Hidden width (the seed uses 512); 0 makes the head one linear layer, torchvision's classifier.</summary>
    public int Hidden { get; init; } = 512;
    /// <summary>Dropout probability between the two linear layers (the seed uses 0.5).</summary>
    public double Dropout { get; init; } = 0.5;
}
