using LiteDB;

namespace EdgeTL.Agent.Storage;

/// <summary>The history of training and adaptation runs on the device.</summary>
public sealed class RunStore
{
    private readonly ILiteCollection<RunRecord> _runs;
    private readonly TimeProvider _time;

    /// <summary>Opens the run collection of <paramref name="database"/>.</summary>
    public RunStore(ILiteDatabase database, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        _runs = database.GetCollection<RunRecord>("runs", BsonAutoId.Int64);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Records a finished run; returns its id.</summary>
    public long Add(string kind, string commandId, string outcome, string json) =>
        _runs.Insert(new RunRecord { Kind = kind, CommandId = commandId, Outcome = outcome, Json = json, FinishedTicks = _time.GetUtcNow().UtcTicks }).AsInt64;

    /// <summary>The newest <paramref name="count"/> runs, newest first.</summary>
    public IReadOnlyList<RunRecord> Recent(int count) => _runs.Query().OrderByDescending(r => r.Id).Limit(count).ToList();

    /// <summary>Number of runs.</summary>
    public int Count => _runs.Count();
}
