using LiteDB;

namespace EdgeTL.Agent.Storage;

/// <summary>
/// The agent's one LiteDB file: command inbox, metrics outbox, samples, heads and runs. LiteDB
/// journals every write and replays the journal on open, so a crash loses nothing that a call
/// here returned from. Opened once per process; every store class shares it. After an I/O error
/// (a full disk) the engine underneath is reopened on the next call (<see cref="ReopeningEngine"/>).
/// </summary>
public sealed class AgentStore : IDisposable
{
    /// <summary>Free space every write to the store needs by default (16 MiB): see <see cref="ReopeningEngine"/>.</summary>
    public const long DefaultReserveBytes = 16L << 20;

    /// <summary>
    /// Opens (or creates) <paramref name="path"/>; writes are refused as a full disk
    /// (<see cref="AgentErrorCode.StorageFull"/> upstream) once less than
    /// <paramref name="reserveBytes"/> is free, so LiteDB itself never meets a full disk.
    /// </summary>
    public AgentStore(string path, TimeProvider? time = null, long reserveBytes = DefaultReserveBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var time0 = time ?? TimeProvider.System;
        try
        {
            // Our own mapper: LiteDB's global one is shared by every database in the process and
            // builds entity maps lazily, which races when two stores (or threads) map at once.
            var mapper = new BsonMapper();
            mapper.ToDocument(new InboxEntry());
            mapper.ToDocument(new OutboxMessage());
            mapper.ToDocument(new SampleRecord());
            mapper.ToDocument(new HeadRecord());
            mapper.ToDocument(new SettingRecord());
            mapper.ToDocument(new RunRecord());
            Database = new LiteDatabase(new ReopeningEngine(Path, reserveBytes), mapper);
        }
        catch (IOException e) when (DiskSpace.IsFull(e))
        {
            throw new AgentException(AgentErrorCode.StorageFull, $"The store '{Path}' cannot be opened: the disk is full.", e);
        }
        Inbox = new CommandInbox(Database, time0);
        Outbox = new Outbox(Database, time0);
        Samples = new SampleStore(Database, time0);
        Heads = new HeadStore(Database);
        Runs = new RunStore(Database, time0);
        Settings = Database.GetCollection<SettingRecord>("settings");
    }

    /// <summary>Full path of the database file.</summary>
    public string Path { get; }

    /// <summary>The database (for stores added later).</summary>
    public ILiteDatabase Database { get; }

    /// <summary>Seen command ids and their results.</summary>
    public CommandInbox Inbox { get; }

    /// <summary>Messages waiting for their PUBACK.</summary>
    public Outbox Outbox { get; }

    /// <summary>Ingested samples.</summary>
    public SampleStore Samples { get; }

    /// <summary>Heads trained on the device.</summary>
    public HeadStore Heads { get; }

    private int _disposed;

    /// <summary>Training and adaptation runs, with their metrics and curves.</summary>
    public RunStore Runs { get; }

    /// <summary>Settings changed at run time (<c>set-config</c>), which survive restarts.</summary>
    public ILiteCollection<SettingRecord> Settings { get; }

    /// <summary>Flushes and closes the file (on a full disk the log stays, and is replayed on the next open). A second call does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        try
        {
            Database.Checkpoint();
        }
        catch (Exception e) when (DiskSpace.IsFull(e))
        {
            // Nothing is lost: committed transactions are in the log file.
        }
        Database.Dispose();
    }
}
