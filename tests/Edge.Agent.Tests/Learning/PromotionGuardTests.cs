using EdgeTL.Agent.Learning;
using Xunit.Abstractions;

namespace EdgeTL.Agent.Tests.Learning;

/// <summary>
/// The promotion guard on per-row correctness vectors: the n it needs, the exact bound from the
/// discordant pairs, and how often it promotes candidates worse and better by known margins.
/// </summary>
public sealed class PromotionGuardTests(ITestOutputHelper output)
{
    private static readonly PromotionGuard Guard = new(minHoldout: 20, tolerance: 0.02);

    [Fact]
    public void With_5_holdout_samples_even_a_perfect_candidate_is_not_promoted_and_the_reason_names_n()
    {
        var decision = Guard.Decide([true, true, true, true, true], [false, false, false, false, false]);

        Assert.False(decision.Promoted);
        Assert.Equal(5, decision.N);
        Assert.Equal("not promoted: too few holdout samples (n = 5 < MinHoldout 20)", decision.Reason);
        Assert.Equal((1.0, 0.0), (decision.CandidateAccuracy, decision.ServingAccuracy));
        Assert.Null(decision.LowerBound);
    }

    [Fact]
    public void No_holdout_row_at_all_is_too_few_with_n_0()
    {
        var decision = Guard.Decide([], []);

        Assert.False(decision.Promoted);
        Assert.Equal("not promoted: too few holdout samples (n = 0 < MinHoldout 20)", decision.Reason);
        Assert.Null(decision.CandidateAccuracy);
    }

    [Fact]
    public void Clopper_Pearson_lower_bounds_match_their_closed_forms()
    {
        // x = m: P(X ≥ m) = π^m = 0.05.  x = m − 1 = 4 of 5: 5π⁴(1 − π) + π⁵ = 0.05 at π = 0.34259.
        Assert.Equal(Math.Pow(0.05, 1.0 / 5), PromotionGuard.ClopperPearsonLower(5, 5, 0.95), 9);
        Assert.Equal(Math.Pow(0.05, 1.0 / 40), PromotionGuard.ClopperPearsonLower(40, 40, 0.95), 9);
        Assert.Equal(0.34259, PromotionGuard.ClopperPearsonLower(4, 5, 0.95), 4);
        Assert.Equal(0, PromotionGuard.ClopperPearsonLower(0, 12, 0.95));
        double large = PromotionGuard.ClopperPearsonLower(600, 1000, 0.95);   // normal approximation: 0.6 − 1.645·√(0.24/1000) ≈ 0.5745
        Assert.InRange(large, 0.572, 0.576);
    }

    [Theory]
    [InlineData(1, 0, 40, false)]   // one discordant win on 40: (1/40)(2·0.05 − 1) = −2.25 pts < −2
    [InlineData(1, 0, 50, true)]    // the same on 50: −1.8 pts
    [InlineData(0, 0, 20, true)]    // no discordant pair: the same rows right and wrong, bound 0
    [InlineData(5, 0, 40, true)]
    [InlineData(4, 1, 40, false)]   // (5/40)(2·0.3426 − 1) = −3.9 pts
    [InlineData(0, 3, 100, false)]  // three losses: −3 pts
    [InlineData(10, 2, 100, true)]
    public void The_bound_from_the_discordant_pairs_decides(int wins, int losses, int n, bool promoted)
    {
        var (candidate, serving) = Vectors(wins, losses, n);

        var decision = Guard.Decide(candidate, serving);

        double expected = PromotionGuard.DifferenceLowerBound(wins, losses, n, 0.95);
        Assert.Equal(expected, decision.LowerBound!.Value, 12);
        Assert.Equal(promoted, decision.Promoted);
        Assert.Equal((wins, losses, n), (decision.Wins, decision.Losses, decision.N));
        Assert.StartsWith(promoted ? "promoted: " : "not promoted: ", decision.Reason, StringComparison.Ordinal);
        Assert.Contains($"on n = {n} holdout samples", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Candidates_worse_by_a_known_margin_are_never_promoted_over_20_seeds()
    {
        int exactMargin = 0, flipped = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            // Exactly 10 points worse: 15 % of the rows lost, 5 % won, on 40 to 78 rows.
            var random = new Random(seed);
            int n = 40 + 2 * seed;
            var serving = Bernoulli(random, n, 0.8);
            var candidate = (bool[])serving.Clone();
            int lose = (int)Math.Round(0.15 * n), win = (int)Math.Round(0.05 * n);
            foreach (int i in Pick(random, serving, true, lose))
                candidate[i] = false;
            foreach (int i in Pick(random, serving, false, win))
                candidate[i] = true;
            Assert.Equal(-(lose - win) / (double)n, Accuracy(candidate) - Accuracy(serving), 12);
            exactMargin += Guard.Decide(candidate, serving).Promoted ? 1 : 0;

            // On average 18 points worse, drawn row by row on 40 rows (the serving head right on ~80 %).
            var (c2, s2) = Flip(new Random(1000 + seed), 40, servingAccuracy: 0.8, wrongToRight: 0.1, rightToWrong: 0.25);
            flipped += Guard.Decide(c2, s2).Promoted ? 1 : 0;
        }
        output.WriteLine($"worse by exactly 10 pts (n = 40–78): promoted {exactMargin} of 20 seeds; worse by ~18 pts (n = 40): promoted {flipped} of 20 seeds");
        Assert.Equal(0, exactMargin);
        Assert.Equal(0, flipped);
    }

    /// <summary>
    /// The guard's power: right on a share of the rows the serving head gets wrong, wrong on 2 % of those
    /// it gets right (serving accuracy 70 %). At n = 80, half of them (~+13.6 pts); at n = 40, 70 % of them
    /// (~+19.6 pts): on 40 rows the exact test needs a larger gain to bound it above −2 points.
    /// </summary>
    [Theory]
    [InlineData(80, 0.5)]
    [InlineData(40, 0.7)]
    public void A_better_candidate_is_promoted_at_least_18_of_20_times(int n, double wrongToRight)
    {
        int promoted = 0;
        var gains = new List<double>();
        for (int seed = 0; seed < 20; seed++)
        {
            var (candidate, serving) = Flip(new Random(2000 + seed), n, servingAccuracy: 0.7, wrongToRight, rightToWrong: 0.02);
            var decision = Guard.Decide(candidate, serving);
            promoted += decision.Promoted ? 1 : 0;
            gains.Add(Accuracy(candidate) - Accuracy(serving));
        }
        output.WriteLine($"better by {gains.Average() * 100:F1} pts on average (n = {n}): promoted {promoted} of 20 seeds");
        Assert.True(promoted >= 18, $"promoted {promoted} of 20");
    }

    [Fact]
    public void The_label_free_decision_needs_no_higher_entropy_and_a_golden_set_not_worse()
    {
        var same = Enumerable.Repeat(true, 30).Concat(Enumerable.Repeat(false, 10)).ToArray();
        var (worse, serving) = Vectors(0, 4, 40);

        var ok = Guard.DecideLabelFree(0.40, 0.55, same, same);
        var hotter = Guard.DecideLabelFree(0.60, 0.55, same, same);
        var forgets = Guard.DecideLabelFree(0.40, 0.55, worse, serving);
        var few = Guard.DecideLabelFree(0.40, 0.55, same[..12], same[..12]);

        Assert.True(ok.Promoted, ok.Reason);
        Assert.Equal(("label-free", 40, 0.40, 0.55), (ok.Test, ok.N, ok.CandidateEntropy!.Value, ok.ServingEntropy!.Value));
        Assert.False(hotter.Promoted);
        Assert.Contains("mean target entropy 0.600 vs serving 0.550 got worse", hotter.Reason, StringComparison.Ordinal);
        Assert.False(forgets.Promoted);
        Assert.Contains("on n = 40 source golden samples (0 won, 4 lost)", forgets.Reason, StringComparison.Ordinal);
        Assert.False(few.Promoted);
        Assert.StartsWith("not promoted: too few source golden samples (n = 12 < MinHoldout 20)", few.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_first_head_is_served_without_comparison_and_says_so()
    {
        var first = PromotionGuard.FirstHead("the first head of this deployment");

        Assert.True(first.Promoted);
        Assert.Equal(("first-head", 0), (first.Test, first.N));
        Assert.Null(first.LowerBound);
        Assert.Contains("not a promotion over a serving model (comparedOn: 0)", first.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Vectors_of_different_lengths_and_bad_settings_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Guard.Decide([true, false], [true]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PromotionGuard(0, 0.02));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PromotionGuard(20, -0.01));
    }

    /// <summary>n rows: <paramref name="wins"/> the candidate alone gets right, <paramref name="losses"/> the serving head alone, the rest both right.</summary>
    private static (bool[] Candidate, bool[] Serving) Vectors(int wins, int losses, int n)
    {
        var candidate = Enumerable.Repeat(true, n).ToArray();
        var serving = Enumerable.Repeat(true, n).ToArray();
        for (int i = 0; i < wins; i++)
            serving[i] = false;
        for (int i = wins; i < wins + losses; i++)
            candidate[i] = false;
        return (candidate, serving);
    }

    /// <summary>Serving correctness drawn at <paramref name="servingAccuracy"/>; the candidate flips each of its rows with the given chances.</summary>
    private static (bool[] Candidate, bool[] Serving) Flip(Random random, int n, double servingAccuracy, double wrongToRight, double rightToWrong)
    {
        var serving = Bernoulli(random, n, servingAccuracy);
        var candidate = serving.Select(s => s ? random.NextDouble() >= rightToWrong : random.NextDouble() < wrongToRight).ToArray();
        return (candidate, serving);
    }

    private static bool[] Bernoulli(Random random, int n, double p) => [.. Enumerable.Range(0, n).Select(_ => random.NextDouble() < p)];

    private static IEnumerable<int> Pick(Random random, bool[] values, bool value, int count) =>
        Enumerable.Range(0, values.Length).Where(i => values[i] == value).OrderBy(_ => random.Next()).Take(count);

    private static double Accuracy(bool[] correct) => correct.Count(c => c) / (double)correct.Length;
}
