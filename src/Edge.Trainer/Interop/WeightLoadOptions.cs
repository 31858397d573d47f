namespace EdgeTL.Trainer.Interop;

/// <summary>How a state dict is matched onto a model.</summary>
public sealed record WeightLoadOptions
{
    /// <summary>
    /// Skip classifier keys (see <see cref="HeadPrefixes"/>) that are missing, unexpected or of
    /// another shape, e.g. an ImageNet <c>fc</c> loaded into a model with a 10-class head. A head
    /// any key of which does not fit is skipped whole (a checkpoint's two-layer head of another
    /// class count leaves the model's head as it was, not half loaded). Every other mismatch is
    /// still an error.
    /// </summary>
    public bool SkipHead { get; init; }

    /// <summary>Key prefixes that name a classifier: torchvision's <c>fc.</c> and <c>classifier.</c>, and our <c>head.</c>.</summary>
    public IReadOnlyList<string> HeadPrefixes { get; init; } = ["fc.", "classifier.", "head."];

    /// <summary>
    /// Prefix added to every file key before matching; <c>null</c> detects it: a plain
    /// torchvision file loaded into a <see cref="Models.TransferModel"/> gets <c>backbone.</c>.
    /// </summary>
    public string? KeyPrefix { get; init; }
}
