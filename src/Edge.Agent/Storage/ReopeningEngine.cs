using LiteDB;
using LiteDB.Engine;

namespace EdgeTL.Agent.Storage;

/// <summary>
/// The LiteDB engine behind <see cref="AgentStore"/>, reopened after an I/O error. LiteDB 5 closes
/// its engine on any <see cref="IOException"/> (a full disk during a commit) and from then on
/// rethrows that exception from every call, reads included: one ENOSPC would leave the store
/// unusable until the process restarts, even after space returns. Here the next call after such an
/// error opens a fresh engine on the same file; opening replays the log, so every committed
/// transaction is there and the half-written one is not (RELIABILITY R7, R9).
/// </summary>
/// <remarks>
/// The reopening is the last resort. LiteDB must not meet a full disk at all: on the I/O error it
/// closes the engine with the failed write's transaction still open, and that transaction's
/// finalizer throws later on the finalizer thread, which ends the process. So every write first
/// checks the free space of the store's file system and, below <c>reserveBytes</c>, fails with
/// an ENOSPC <see cref="IOException"/> of its own before LiteDB is called (deletes, which free
/// space, need only a sixteenth of the reserve). The reserve covers one write and the automatic
/// checkpoint a write can trigger (up to 1,000 log pages of 8 KiB).
/// </remarks>
internal sealed class ReopeningEngine : ILiteEngine
{
    private readonly EngineSettings _settings;
    private readonly string _directory;
    private readonly long _reserveBytes;
    private readonly Lock _gate = new();
    private LiteEngine? _engine;
    private bool _disposed;

    /// <summary>Opens the database file <paramref name="filename"/>; writes need <paramref name="reserveBytes"/> free on its file system.</summary>
    public ReopeningEngine(string filename, long reserveBytes)
    {
        _settings = new EngineSettings { Filename = filename };
        _directory = Path.GetDirectoryName(Path.GetFullPath(filename))!;
        _reserveBytes = reserveBytes;
        _engine = new LiteEngine(_settings);
    }

    /// <summary>How many times the engine was reopened after an I/O error.</summary>
    public int Reopened { get; private set; }

    public int Checkpoint() => Write(_reserveBytes, e => e.Checkpoint());

    public long Rebuild(RebuildOptions options) => Write(_reserveBytes, e => e.Rebuild(options));

    public bool BeginTrans() => Run(e => e.BeginTrans());

    public bool Commit() => Write(_reserveBytes, e => e.Commit());

    public bool Rollback() => Run(e => e.Rollback());

    public IBsonDataReader Query(string collection, Query query) => Run(e => e.Query(collection, query));

    public int Insert(string collection, IEnumerable<BsonDocument> docs, BsonAutoId autoId) => Write(_reserveBytes, e => e.Insert(collection, docs, autoId));

    public int Update(string collection, IEnumerable<BsonDocument> docs) => Write(_reserveBytes, e => e.Update(collection, docs));

    public int UpdateMany(string collection, BsonExpression transform, BsonExpression predicate) => Write(_reserveBytes, e => e.UpdateMany(collection, transform, predicate));

    public int Upsert(string collection, IEnumerable<BsonDocument> docs, BsonAutoId autoId) => Write(_reserveBytes, e => e.Upsert(collection, docs, autoId));

    public int Delete(string collection, IEnumerable<BsonValue> ids) => Write(_reserveBytes / 16, e => e.Delete(collection, ids));

    public int DeleteMany(string collection, BsonExpression predicate) => Write(_reserveBytes / 16, e => e.DeleteMany(collection, predicate));

    public bool DropCollection(string name) => Write(_reserveBytes / 16, e => e.DropCollection(name));

    public bool RenameCollection(string name, string newName) => Write(_reserveBytes, e => e.RenameCollection(name, newName));

    public bool EnsureIndex(string collection, string name, BsonExpression expression, bool unique) => Write(_reserveBytes, e => e.EnsureIndex(collection, name, expression, unique));

    public bool DropIndex(string collection, string name) => Write(_reserveBytes / 16, e => e.DropIndex(collection, name));

    public BsonValue Pragma(string name) => Run(e => e.Pragma(name));

    public bool Pragma(string name, BsonValue value) => Run(e => e.Pragma(name, value));

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _engine?.Dispose();
            _engine = null;
        }
    }

    /// <summary>Runs a write once <paramref name="needed"/> bytes are free, else fails as a full disk would, without calling LiteDB.</summary>
    private T Write<T>(long needed, Func<LiteEngine, T> call)
    {
        long free = DiskSpace.FreeBytes(_directory);
        if (free < needed)
            throw new IOException($"No space left on device for the agent's store: {free / 1024} KiB free in {_directory}, {needed / 1024} KiB are kept in reserve.", DiskSpace.Enospc);
        return Run(call);
    }

    private T Run<T>(Func<LiteEngine, T> call)
    {
        var engine = Current();
        try
        {
            return call(engine);
        }
        catch (IOException)
        {
            // LiteDB has closed this engine; the next call opens a new one.
            lock (_gate)
            {
                if (ReferenceEquals(_engine, engine))
                {
                    _engine = null;
                    TryDispose(engine);
                }
            }
            throw;
        }
    }

    private LiteEngine Current()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_engine is null)
            {
                // Throws (the caller sees the I/O error) while the file still cannot be opened; tried again next call.
                _engine = new LiteEngine(_settings);
                Reopened++;
            }
            return _engine;
        }
    }

    private static void TryDispose(LiteEngine engine)
    {
        try
        {
            engine.Dispose();
        }
        catch (Exception e) when (e is IOException or LiteException or ObjectDisposedException)
        {
            // Already closed by LiteDB after the error.
        }
    }
}
