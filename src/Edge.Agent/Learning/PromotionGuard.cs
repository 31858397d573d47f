using System.Globalization;

namespace EdgeTL.Agent.Learning;

/// <summary>
/// Decides whether a candidate model may replace the serving one, from the per-row correctness of
/// both on the same holdout rows (rows neither trained on). Promoted only when there are at least
/// <see cref="MinHoldout"/> rows and the candidate is, at 95 % confidence, not worse than the
/// serving model by more than <see cref="Tolerance"/> (accuracy as a fraction).
/// <para>
/// The statistic is exact and uses the discordant pairs only: of the n rows, b are won by the
/// candidate (right where the serving model is wrong) and c lost (wrong where it is right); the
/// accuracy difference is (b − c)/n. Given the m = b + c discordant rows, b is binomial with
/// π = P(candidate right | the two disagree), and the difference is (m/n)(2π − 1). The guard takes
/// the one-sided 95 % Clopper–Pearson lower bound π_L of π (π_L = 0 when b = 0) and promotes when
/// (m/n)(2π_L − 1) ≥ −Tolerance; with m = 0 the bound is 0 (both right and wrong on the same rows).
/// This is the exact one-sided sign (binomial) test of non-inferiority with margin Tolerance at the
/// observed discordance m/n: the bound clears −Tolerance exactly when that test rejects "worse by
/// Tolerance or more" at 5 %.
/// </para>
/// </summary>
public sealed class PromotionGuard
{
    /// <summary>Confidence of the one-sided bound.</summary>
    public const double Confidence = 0.95;

    /// <summary>A guard with the agent's settings.</summary>
    public PromotionGuard(int minHoldout, double tolerance)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minHoldout, 1);
        if (!(tolerance is >= 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "The tolerance must be in [0, 1).");
        MinHoldout = minHoldout;
        Tolerance = tolerance;
    }

    /// <summary>Fewest holdout rows a label-based promotion needs.</summary>
    public int MinHoldout { get; }

    /// <summary>How much worse (accuracy as a fraction) the candidate may be, at the bound.</summary>
    public double Tolerance { get; }

    /// <summary>
    /// The label-based decision: <paramref name="candidateCorrect"/>[i] and <paramref name="servingCorrect"/>[i]
    /// say whether each model classified holdout row i correctly.
    /// </summary>
    public PromotionDecision Decide(IReadOnlyList<bool> candidateCorrect, IReadOnlyList<bool> servingCorrect) =>
        Paired("discordant-pairs", "holdout samples", candidateCorrect, servingCorrect);

    /// <summary>
    /// The label-free decision (adaptation without enough labelled target rows, where the policy
    /// allows it): promoted only if the candidate's mean prediction entropy on the target is not
    /// higher than the serving model's, and its agreement with the labels of the source golden set
    /// (labelled source holdout rows) is not worse, by the same paired test and tolerance, on at
    /// least <see cref="MinHoldout"/> golden rows.
    /// </summary>
    public PromotionDecision DecideLabelFree(double candidateEntropy, double servingEntropy,
        IReadOnlyList<bool> candidateGoldenCorrect, IReadOnlyList<bool> servingGoldenCorrect)
    {
        var golden = Paired("label-free", "source golden samples", candidateGoldenCorrect, servingGoldenCorrect)
            with { CandidateEntropy = candidateEntropy, ServingEntropy = servingEntropy };
        string entropies = $"mean target entropy {F(candidateEntropy, "F3")} vs serving {F(servingEntropy, "F3")}";
        if (!golden.Promoted)
            return golden with { Reason = $"{golden.Reason}; {entropies}" };
        if (!(candidateEntropy <= servingEntropy))
            return golden with { Promoted = false, Reason = $"not promoted: the {entropies} got worse; {golden.Reason["promoted: ".Length..]}" };
        return golden with { Reason = $"{golden.Reason}; {entropies}" };
    }

    /// <summary>No model serves yet (a deployment's first head): nothing to be worse than, nothing compared.</summary>
    public static PromotionDecision FirstHead(string what) =>
        new(true, "first-head", 0, null, null, null, 0, 0, $"served without comparison: {what}, not a promotion over a serving model (comparedOn: 0)");

    private PromotionDecision Paired(string test, string rows, IReadOnlyList<bool> candidateCorrect, IReadOnlyList<bool> servingCorrect)
    {
        ArgumentNullException.ThrowIfNull(candidateCorrect);
        ArgumentNullException.ThrowIfNull(servingCorrect);
        if (candidateCorrect.Count != servingCorrect.Count)
            throw new ArgumentException($"Both models must be scored on the same rows ({candidateCorrect.Count} ≠ {servingCorrect.Count}).", nameof(servingCorrect));
        int n = candidateCorrect.Count;
        if (n < MinHoldout)
        {
            double? candidate = n == 0 ? null : candidateCorrect.Count(c => c) / (double)n;
            double? serving = n == 0 ? null : servingCorrect.Count(c => c) / (double)n;
            return new(false, test, n, candidate, serving, null, 0, 0,
                $"not promoted: too few {rows} (n = {n} < MinHoldout {MinHoldout})");
        }
        int wins = 0, losses = 0, candidateRight = 0, servingRight = 0;
        for (int i = 0; i < n; i++)
        {
            candidateRight += candidateCorrect[i] ? 1 : 0;
            servingRight += servingCorrect[i] ? 1 : 0;
            wins += candidateCorrect[i] && !servingCorrect[i] ? 1 : 0;
            losses += !candidateCorrect[i] && servingCorrect[i] ? 1 : 0;
        }
        double bound = DifferenceLowerBound(wins, losses, n, Confidence);
        bool promoted = bound >= -Tolerance - 1e-12;
        string figures = $"candidate {F(candidateRight / (double)n, "P1")} vs serving {F(servingRight / (double)n, "P1")} on n = {n} {rows} "
            + $"({wins} won, {losses} lost), 95 % lower bound on the difference {Points(bound)} {(promoted ? "≥" : "<")} {Points(-Tolerance)}";
        return new(promoted, test, n, candidateRight / (double)n, servingRight / (double)n, bound, wins, losses,
            (promoted ? "promoted: " : "not promoted: ") + figures);
    }

    /// <summary>
    /// The one-sided lower confidence bound on the accuracy difference (b − c)/n from the discordant
    /// pairs: (m/n)(2π_L − 1), m = b + c, π_L the Clopper–Pearson lower bound of b successes in m.
    /// </summary>
    public static double DifferenceLowerBound(int wins, int losses, int n, double confidence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(wins);
        ArgumentOutOfRangeException.ThrowIfNegative(losses);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, wins + losses);
        int m = wins + losses;
        if (m == 0)
            return 0;
        return m / (double)n * (2 * ClopperPearsonLower(wins, m, confidence) - 1);
    }

    /// <summary>
    /// The exact one-sided lower confidence bound of a binomial proportion from
    /// <paramref name="successes"/> of <paramref name="trials"/>: the π at which P(X ≥ successes) = 1 − confidence (0 when there is no success).
    /// </summary>
    public static double ClopperPearsonLower(int successes, int trials, double confidence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(successes);
        ArgumentOutOfRangeException.ThrowIfLessThan(trials, successes);
        if (!(confidence is > 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "The confidence must be in (0, 1).");
        if (successes == 0)
            return 0;
        double alpha = 1 - confidence, low = 0, high = 1;
        for (int i = 0; i < 100; i++)
        {
            double mid = (low + high) / 2;
            if (UpperTail(successes, trials, mid) > alpha)
                high = mid;
            else
                low = mid;
        }
        return low;
    }

    /// <summary>P(X ≥ k) for X ~ Binomial(m, p), 0 &lt; p &lt; 1, summed in log space (no overflow for large m).</summary>
    private static double UpperTail(int k, int m, double p)
    {
        double logP = Math.Log(p), logQ = Math.Log(1 - p), logChoose = 0, sum = 0;
        for (int j = 1; j <= k; j++)
            logChoose += Math.Log(m - j + 1) - Math.Log(j);
        for (int j = k; j <= m; j++)
        {
            sum += Math.Exp(logChoose + j * logP + (m - j) * logQ);
            logChoose += Math.Log(m - j) - Math.Log(j + 1);
        }
        return sum;
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Points(double fraction) => (fraction * 100).ToString("+0.0;−0.0;0.0", CultureInfo.InvariantCulture) + " pts";
}
