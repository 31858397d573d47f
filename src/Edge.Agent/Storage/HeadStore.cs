using LiteDB;

namespace EdgeTL.Agent.Storage;

/// <summary>
/// The heads trained on the device; exactly one is "serving" per model at a time. A model is a
/// package counter plus, for a version made on the device, its version (null for the package as shipped).
/// </summary>
public sealed class HeadStore
{
    private readonly ILiteCollection<HeadRecord> _heads;

    /// <summary>Opens the head collection of <paramref name="database"/>.</summary>
    public HeadStore(ILiteDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _heads = database.GetCollection<HeadRecord>("heads", BsonAutoId.Int64);
    }

    /// <summary>Adds a record; returns its id.</summary>
    public long Add(HeadRecord head) => _heads.Insert(head).AsInt64;

    /// <summary>Saves changes to <paramref name="head"/>.</summary>
    public void Update(HeadRecord head) => _heads.Update(head);

    /// <summary>Makes <paramref name="id"/> the serving head of its package and retires the one before.</summary>
    public void Promote(long id)
    {
        var head = _heads.FindById(id) ?? throw new AgentException(AgentErrorCode.NoModel, $"There is no head {id}.");
        foreach (var other in _heads.Find(h => h.Status == "serving" && h.PackageCounter == head.PackageCounter).Where(h => h.ModelVersion == head.ModelVersion))
        {
            other.Status = "retired";
            _heads.Update(other);
        }
        head.Status = "serving";
        _heads.Update(head);
    }

    /// <summary>Marks <paramref name="id"/> rejected (it failed evaluation).</summary>
    public void Reject(long id)
    {
        if (_heads.FindById(id) is { } head)
        {
            head.Status = "rejected";
            _heads.Update(head);
        }
    }

    /// <summary>The serving head for package <paramref name="packageCounter"/> (and device-made <paramref name="modelVersion"/>, null for the package itself), or null.</summary>
    public HeadRecord? Serving(long packageCounter, string? modelVersion = null) =>
        _heads.Find(h => h.Status == "serving" && h.PackageCounter == packageCounter).Where(h => h.ModelVersion == modelVersion).OrderByDescending(h => h.Id).FirstOrDefault();

    /// <summary>The newest retired head of the package (what a head rollback returns to), or null.</summary>
    public HeadRecord? LastRetired(long packageCounter, string? modelVersion = null) =>
        _heads.Find(h => h.Status == "retired" && h.PackageCounter == packageCounter).Where(h => h.ModelVersion == modelVersion).OrderByDescending(h => h.Id).FirstOrDefault();
}
