namespace EdgeTL.Trainer.Training;

/// <summary>At the start of epoch <paramref name="Epoch"/> (0-based), unfreeze <paramref name="Groups"/>.</summary>
public sealed record UnfreezeStep(int Epoch, IReadOnlyList<string> Groups);
