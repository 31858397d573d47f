using LiteDB;

namespace EdgeTL.Agent.Storage;

/// <summary>Ingested samples in the agent's store, queried by domain and label.</summary>
public sealed class SampleStore
{
    private readonly ILiteCollection<SampleRecord> _samples;
    private readonly TimeProvider _time;

    /// <summary>Opens the sample collection of <paramref name="database"/>.</summary>
    public SampleStore(ILiteDatabase database, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        _samples = database.GetCollection<SampleRecord>("samples", BsonAutoId.Int64);
        _samples.EnsureIndex(s => s.Domain);
        _samples.EnsureIndex(s => s.Label);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Stores a sample; returns its id. A full disk is <see cref="AgentErrorCode.StorageFull"/>.</summary>
    public long Add(byte[] image, string? label, string domain, string origin)
    {
        ArgumentNullException.ThrowIfNull(image);
        try
        {
            return _samples.Insert(new SampleRecord { Image = image, Label = label, Domain = domain, Origin = origin, ReceivedTicks = _time.GetUtcNow().UtcTicks }).AsInt64;
        }
        catch (Exception e) when (DiskSpace.IsFull(e))
        {
            throw new AgentException(AgentErrorCode.StorageFull, "The sample was not stored: the disk is full.", e);
        }
    }

    /// <summary>Sets the label of sample <paramref name="id"/>; false when there is no such sample.</summary>
    public bool SetLabel(long id, string label)
    {
        var sample = _samples.FindById(id);
        if (sample is null)
            return false;
        sample.Label = label;
        return _samples.Update(sample);
    }

    /// <summary>Labelled samples, optionally of one domain, oldest first.</summary>
    public IReadOnlyList<SampleRecord> Labelled(string? domain = null) =>
        [.. _samples.Query().Where(s => s.Label != null).ToEnumerable().Where(s => domain is null || s.Domain == domain).OrderBy(s => s.Id)];

    /// <summary>The newest <paramref name="count"/> samples of <paramref name="domain"/>, oldest first.</summary>
    public IReadOnlyList<SampleRecord> Recent(string domain, int count) =>
        [.. _samples.Query().Where(s => s.Domain == domain).OrderByDescending(s => s.Id).Limit(count).ToEnumerable().Reverse()];

    /// <summary>The newest <paramref name="count"/> samples of any domain, oldest first.</summary>
    public IReadOnlyList<SampleRecord> Latest(int count) =>
        [.. _samples.Query().OrderByDescending(s => s.Id).Limit(count).ToEnumerable().Reverse()];

    /// <summary>The newest sample's id (ids only grow), 0 when there is none.</summary>
    public long NewestId() => _samples.Query().OrderByDescending(s => s.Id).Limit(1).ToEnumerable().FirstOrDefault()?.Id ?? 0;

    /// <summary>Labelled sample counts per label (all domains).</summary>
    public IReadOnlyDictionary<string, int> LabelCounts() =>
        _samples.Query().Where(s => s.Label != null).Select(s => s.Label).ToEnumerable().GroupBy(l => l!).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>Number of samples.</summary>
    public int Count => _samples.Count();
}
