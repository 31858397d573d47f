namespace EdgeTL.Trainer.Adaptation;

/// <summary>
/// Ganin's warm-up of the reversal coefficient: λ(p) = 2 / (1 + exp(−γ·p)) − 1 with γ = 10, where
/// p ∈ [0, 1] is training progress. λ starts at 0, so the noisy early domain classifier does not
/// disturb the features, and approaches <c>max</c> (1 by default) as training ends.
/// </summary>
public static class GrlSchedule
{
    /// <summary>λ at progress <paramref name="progress"/> (clamped to [0, 1]).</summary>
    public static double Ganin(double progress, double gamma = 10.0, double max = 1.0)
    {
        double p = Math.Clamp(progress, 0.0, 1.0);
        return max * ((2.0 / (1.0 + Math.Exp(-gamma * p))) - 1.0);
    }
}
