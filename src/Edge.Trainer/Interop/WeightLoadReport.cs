namespace EdgeTL.Trainer.Interop;

/// <summary>What a weight load did: keys copied and keys skipped (the head, on request).</summary>
public sealed record WeightLoadReport(IReadOnlyList<string> Loaded, IReadOnlyList<string> Skipped, string KeyPrefix)
{
    /// <summary>The file's format when the weights came from a file (<see cref="WeightFiles.Load"/>); null for an in-memory state dict.</summary>
    public WeightFormat? Format { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Loaded.Count} tensors loaded, {Skipped.Count} skipped{(Skipped.Count > 0 ? $" ({string.Join(", ", Skipped.Take(6))}{(Skipped.Count > 6 ? ", …" : "")})" : "")}";
}
