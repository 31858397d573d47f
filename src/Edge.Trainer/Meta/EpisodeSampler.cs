namespace EdgeTL.Trainer.Meta;

/// <summary>
/// Draws N-way K-shot episodes from a labelled set, restricted to a pool of classes (the
/// meta-training classes, or classes held out from meta-training for evaluation). Seeded and
/// deterministic: the same labels, classes and seed give the same episodes.
/// </summary>
public sealed class EpisodeSampler
{
    private readonly Dictionary<int, int[]> _byClass;
    private readonly int[] _classes;
    private readonly Random _random;

    /// <param name="labels">Label of every row of the set.</param>
    /// <param name="classes">The classes episodes may use.</param>
    /// <param name="ways">N, classes per episode.</param>
    /// <param name="shots">K, support rows per class.</param>
    /// <param name="queries">Query rows per class.</param>
    /// <param name="seed">Seed of the draws.</param>
    public EpisodeSampler(IReadOnlyList<int> labels, IReadOnlyList<int> classes, int ways, int shots, int queries, int seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classes);
        if (ways < 2 || shots < 1 || queries < 1)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"Episodes need ≥ 2 ways, ≥ 1 shot and ≥ 1 query (got {ways}, {shots}, {queries}).");
        if (classes.Distinct().Count() < ways)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration, $"{ways}-way episodes need at least {ways} classes; the pool has {classes.Distinct().Count()}.");
        _classes = classes.Distinct().Order().ToArray();
        _byClass = _classes.ToDictionary(c => c, c => Enumerable.Range(0, labels.Count).Where(i => labels[i] == c).ToArray());
        foreach (var (c, rows) in _byClass)
        {
            if (rows.Length < shots + queries)
                throw new EdgeTrainerException(TrainerErrorCode.InvalidConfiguration,
                    $"Class {c} has {rows.Length} rows; a {shots}-shot episode with {queries} queries needs {shots + queries}.");
        }
        Ways = ways;
        Shots = shots;
        Queries = queries;
        _random = new Random(seed);
    }

    /// <summary>N.</summary>
    public int Ways { get; }

    /// <summary>K.</summary>
    public int Shots { get; }

    /// <summary>Query rows per class.</summary>
    public int Queries { get; }

    /// <summary>The next episode: N classes drawn without replacement, then K + Q rows of each.</summary>
    public Episode Next()
    {
        var classes = _classes.OrderBy(_ => _random.Next()).Take(Ways).ToArray();
        var support = new List<int>();
        var supportLabels = new List<long>();
        var query = new List<int>();
        var queryLabels = new List<long>();
        for (int k = 0; k < classes.Length; k++)
        {
            var rows = _byClass[classes[k]].OrderBy(_ => _random.Next()).Take(Shots + Queries).ToArray();
            support.AddRange(rows.Take(Shots));
            supportLabels.AddRange(Enumerable.Repeat((long)k, Shots));
            query.AddRange(rows.Skip(Shots));
            queryLabels.AddRange(Enumerable.Repeat((long)k, Queries));
        }
        return new Episode(classes, [.. support], [.. supportLabels], [.. query], [.. queryLabels]);
    }
}
