using LiteDB;

namespace EdgeTL.Agent.Storage;

/// <summary>
/// The persisted outbox: everything the agent publishes is written here first and removed only
/// after the broker's PUBACK (<see cref="AcknowledgeThrough"/>), so a dead broker or a killed agent
/// loses nothing and the order is kept. When <see cref="Capacity"/> is reached the oldest metrics
/// are dropped and counted in <see cref="DroppedTotal"/>; results and events are never dropped.
/// </summary>
/// <remarks>
/// Every call that returns has committed its LiteDB transaction (written to LiteDB's log file,
/// which survives the process being killed). An enqueue is one insert of one row, with no index but
/// the primary key (LiteDB writes three 8 KiB pages for it: the data page and two index pages).
/// Rows leave in batches, one transaction for each unbroken run the publisher had acknowledged.
/// The newest messages are also kept in memory (<see cref="RecentLimit"/>), so the publisher,
/// following just behind the producers, reads them from there instead of from LiteDB.
/// </remarks>
public sealed class Outbox
{
    /// <summary>Most messages kept in memory for <see cref="Peek(long, int)"/> (and at most <see cref="RecentBytesLimit"/> of payload).</summary>
    public const int RecentLimit = 4096;

    /// <summary>Most payload bytes kept in memory for <see cref="Peek(long, int)"/>.</summary>
    public const int RecentBytesLimit = 4 << 20;

    // The sequence number and the drop count live in the outbox collection itself, in the row with
    // _id 0. The sequence is the largest _id ever written; a restart takes the larger of the saved
    // sequence and the largest row left, so the counters row need only be written when the newest
    // row goes: before an acknowledgement empties the outbox it is brought up to the newest
    // sequence, in its own call ahead of the delete, so a crash between the two leaves the rows
    // (sent again) and never a sequence that could go back. A drop writes the counters and the new
    // message in one call: one implicit LiteDB transaction, all or nothing. (No explicit
    // transactions: an explicit transaction left open on an engine that LiteDB closed after an I/O
    // error is finalized later and throws.)
    private const long CounterId = 0;
    private const string LegacySequenceKey = "outbox.sequence";
    private const string LegacyDroppedKey = "outbox.dropped_total";
    private const string LegacyDroppableIndex = "Droppable";

    // Every query takes its bounds as parameters: LiteDB compiles each distinct expression text
    // once and keeps it for the life of the process, so a value written into the text (as
    // Query.GT or Query.Between do) would compile (JIT) a new delegate on every call and grow that
    // cache without end.
    private const string Range = "_id BETWEEN @0 AND @1";

    private readonly ILiteCollection<BsonDocument> _rows;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();           // the counters and every write
    private readonly OutboxTail _recent;           // the newest messages, also in memory
    private long _last;
    private long _saved;
    private long _dropped;
    private int _count;
    private int _removalsWaiting;

    /// <summary>Opens the outbox in <paramref name="database"/>.</summary>
    public Outbox(ILiteDatabase database, TimeProvider? time = null, int capacity = 100_000)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _rows = database.GetCollection("outbox", BsonAutoId.Int64);
        _time = time ?? TimeProvider.System;
        Capacity = capacity;
        DropLegacyIndex();
        if (_rows.FindById(CounterId) is { } counters)
        {
            _saved = counters["LastSequence"].AsInt64;
            _dropped = counters["DroppedTotal"].AsInt64;
        }
        else
        {
            // Stores written before the counters moved here kept them in "counters".
            var legacy = database.GetCollection<SettingRecord>("counters");
            _saved = long.TryParse(legacy.FindById(LegacySequenceKey)?.Json, out long last) ? last : 0;
            _dropped = long.TryParse(legacy.FindById(LegacyDroppedKey)?.Json, out long dropped) ? dropped : 0;
            // Written now, which also creates the collection: LiteDB 5 can fail a read of a
            // collection that another thread's transaction is creating at that moment
            // ("page type must be collection page"), and the publisher reads while producers write.
            _rows.Upsert(Counters(_saved, _dropped));
        }
        var newest = _rows.Query().OrderByDescending("_id").Limit(1).FirstOrDefault();
        _last = Math.Max(_saved, newest?["_id"].AsInt64 ?? 0);
        _count = _rows.Count(BsonExpression.Create(Range, CounterId + 1, long.MaxValue));
        _recent = new OutboxTail(_last, _count == 0 ? _last : CounterId);
    }

    /// <summary>Most messages kept; metrics beyond it drop oldest first.</summary>
    public int Capacity { get; set; }

    /// <summary>Raised after a message is queued (wakes the publisher).</summary>
    public event Action? Enqueued;

    /// <summary>Messages waiting.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The sequence number of the last message queued (0 before the first); it survives restarts.</summary>
    public long LastSequence => Volatile.Read(ref _last);

    /// <summary>Metrics dropped because the outbox was full, since the store was created.</summary>
    public long DroppedTotal => Volatile.Read(ref _dropped);

    /// <summary>
    /// Queues a message; returns its sequence number. Throws <see cref="AgentException"/> with
    /// <see cref="AgentErrorCode.StorageFull"/> when the disk is full (nothing is queued then).
    /// </summary>
    public long Enqueue(string topic, byte[] payload, bool retain = false, bool droppable = true)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return Enqueue(topic, _ => payload, retain, droppable);
    }

    /// <summary>
    /// Queues a message whose payload is made from its sequence number (so the payload can carry
    /// it); returns the sequence number once the message is stored. Sequence numbers only grow,
    /// also across restarts.
    /// </summary>
    public long Enqueue(string topic, Func<long, byte[]> payload, bool retain = false, bool droppable = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentNullException.ThrowIfNull(payload);
        long id;
        // Removals first: a producer that enqueues in a tight loop would otherwise take the gate
        // again and again before the publisher's thread is scheduled, starving the removals.
        var spin = new SpinWait();
        while (Volatile.Read(ref _removalsWaiting) > 0)
            spin.SpinOnce(sleep1Threshold: -1);
        lock (_gate)
        {
            id = _last + 1;
            var message = new OutboxMessage { Id = id, Topic = topic, Payload = payload(id), Retain = retain, Droppable = droppable, CreatedTicks = _time.GetUtcNow().UtcTicks };
            var row = Row(message);
            var oldest = _count + 1 > Capacity ? OldestDroppable(_count + 1 - Capacity) : [];
            try
            {
                if (oldest.Count == 0)
                {
                    _rows.Insert(row);
                }
                else
                {
                    // The message and the counters in one call; the drop is counted before the rows go,
                    // so a crash in between can over-count a drop but never hide one.
                    _rows.Upsert([Counters(id, _dropped + oldest.Count), row]);
                    _saved = id;
                }
            }
            catch (Exception e) when (e is IOException or LiteException)
            {
                if (DiskSpace.IsFull(e))
                    throw new AgentException(AgentErrorCode.StorageFull, "The outbox cannot take the message: the disk is full.", e);
                throw;
            }
            Volatile.Write(ref _last, id);
            Volatile.Write(ref _dropped, _dropped + oldest.Count);
            Volatile.Write(ref _count, _count + 1);
            _recent.Add(message);
            foreach (long old in oldest)
            {
                if (_rows.Delete(old))
                    Volatile.Write(ref _count, _count - 1);
                _recent.Remove(old);
            }
        }
        Enqueued?.Invoke();
        return id;
    }

    /// <summary>The oldest <paramref name="count"/> messages, in publish order.</summary>
    public IReadOnlyList<OutboxMessage> Peek(int count) => Peek(CounterId, count);

    /// <summary>
    /// The oldest <paramref name="count"/> messages after sequence number <paramref name="after"/>,
    /// in publish order (from memory when the newest messages cover them, else from the store).
    /// </summary>
    public IReadOnlyList<OutboxMessage> Peek(long after, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var messages = new List<OutboxMessage>(Math.Min(count, 256));
        if (_recent.TryPeek(after, count, messages))
            return messages;
        foreach (var row in _rows.Query().Where(Range, Math.Max(after, CounterId) + 1, long.MaxValue).OrderBy("_id").Limit(count).ToEnumerable())
            messages.Add(Message(row));
        return messages;
    }

    /// <summary>Removes message <paramref name="id"/> after its PUBACK.</summary>
    public void Acknowledge(long id)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(id, CounterId);
        Interlocked.Increment(ref _removalsWaiting);
        lock (_gate)
        {
            Interlocked.Decrement(ref _removalsWaiting);
            SaveSequenceThrough(id);
            if (_rows.Delete(id))
                Volatile.Write(ref _count, _count - 1);
            _recent.Remove(id);
        }
    }

    /// <summary>
    /// Removes every message up to and including <paramref name="id"/>, in one transaction: the
    /// publisher publishes from the oldest message in order and calls this with the newest of an
    /// unbroken run of PUBACKs, so every message up to it was acknowledged (or dropped meanwhile).
    /// </summary>
    public void AcknowledgeThrough(long id)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(id, CounterId);
        Interlocked.Increment(ref _removalsWaiting);
        lock (_gate)
        {
            Interlocked.Decrement(ref _removalsWaiting);
            SaveSequenceThrough(id);
            Volatile.Write(ref _count, _count - _rows.DeleteMany(BsonExpression.Create(Range, CounterId + 1, id)));
            _recent.RemoveThrough(id);
        }
    }

    /// <summary>
    /// Before the rows up to <paramref name="id"/> go (under the gate): when that empties the
    /// outbox, the counters row must hold the newest sequence, which no row will. While the newest
    /// message stays (it goes only by an acknowledgement: drops take older ones), it holds it.
    /// </summary>
    private void SaveSequenceThrough(long id)
    {
        if (id < _last || _saved >= _last)
            return;
        _rows.Upsert(Counters(_last, _dropped));
        _saved = _last;
    }

    /// <summary>The ids of the oldest <paramref name="count"/> droppable messages (under the gate).</summary>
    private List<long> OldestDroppable(int count)
    {
        var ids = new List<long>(count);
        foreach (var row in _rows.Query().Where(Range + " AND Droppable = true", CounterId + 1, long.MaxValue).OrderBy("_id").Limit(count).ToEnumerable())
            ids.Add(row["_id"].AsInt64);
        return ids;
    }

    /// <summary>
    /// Stores before this one kept an index on Droppable, which every insert and delete paid for
    /// and only a full outbox used; dropping it changes nothing but the cost. A disk too full to
    /// drop it leaves it, harmless, for the next open.
    /// </summary>
    private void DropLegacyIndex()
    {
        try
        {
            _rows.DropIndex(LegacyDroppableIndex);
        }
        catch (Exception e) when (e is IOException or LiteException && DiskSpace.IsFull(e))
        {
        }
    }

    private static BsonDocument Row(OutboxMessage message) => new()
    {
        ["_id"] = message.Id,
        ["Topic"] = message.Topic,
        ["Payload"] = message.Payload,
        ["Retain"] = message.Retain,
        ["Droppable"] = message.Droppable,
        ["CreatedTicks"] = message.CreatedTicks,
    };

    private static OutboxMessage Message(BsonDocument row) => new()
    {
        Id = row["_id"].AsInt64,
        Topic = row["Topic"].AsString,
        Payload = row["Payload"].AsBinary,
        Retain = row["Retain"].AsBoolean,
        Droppable = row["Droppable"].AsBoolean,
        CreatedTicks = row["CreatedTicks"].AsInt64,
    };

    private static BsonDocument Counters(long last, long dropped) => new()
    {
        ["_id"] = CounterId,
        ["LastSequence"] = last,
        ["DroppedTotal"] = dropped,
    };
}
