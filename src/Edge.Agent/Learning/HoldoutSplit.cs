namespace EdgeTL.Agent.Learning;

/// <summary>
/// The fixed holdout: every labelled sample belongs, by its store id alone, either to the train
/// part or to the holdout, once and for all. A deterministic hash of the id (SplitMix64's
/// finalizer) sends <see cref="HoldoutPerMille"/>/1000 of the ids to the holdout, so the holdout
/// grows as labels arrive and the same id always lands on the same side, whatever else is stored.
/// No candidate (fine-tuned head, adaptation) trains on a holdout row; the promotion guard scores
/// candidate and serving head on them.
/// </summary>
public static class HoldoutSplit
{
    /// <summary>Holdout share of the ids, per mille (28 %).</summary>
    public const int HoldoutPerMille = 280;

    /// <summary>Whether the sample <paramref name="sampleId"/> belongs to the holdout.</summary>
    public static bool IsHoldout(long sampleId)
    {
        unchecked
        {
            ulong z = (ulong)sampleId + 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return z % 1000 < HoldoutPerMille;
        }
    }
}
