using LiteDB;

namespace EdgeTL.Agent.Storage;

/// <summary>
/// The persisted outbox: everything the agent publishes is written here first and removed only
/// after the broker's PUBACK (<see cref="Acknowledge"/>), so a dead broker or a killed agent loses
/// nothing and the order is kept. When <see cref="Capacity"/> is reached the oldest metrics are
/// dropped and counted in <see cref="DroppedTotal"/>; results and events are never dropped.
/// </summary>
public sealed class Outbox
{
    // The sequence number and the drop count live in the outbox collection itself, in the row with
    // _id 0, so that a message and the counters are written by one engine call: one implicit
    // LiteDB transaction, all or nothing. (No explicit transactions: an explicit transaction left
    // open on an engine that LiteDB closed after an I/O error is finalized later and throws.)
    private const long CounterId = 0;
    private const string LegacySequenceKey = "outbox.sequence";
    private const string LegacyDroppedKey = "outbox.dropped_total";
    private readonly ILiteCollection<OutboxMessage> _messages;
    private readonly ILiteCollection<BsonDocument> _rows;
    private readonly BsonMapper _mapper;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _last;
    private long _dropped;
    private int _count;

    /// <summary>Opens the outbox in <paramref name="database"/>.</summary>
    public Outbox(ILiteDatabase database, TimeProvider? time = null, int capacity = 100_000)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _messages = database.GetCollection<OutboxMessage>("outbox", BsonAutoId.Int64);
        _messages.EnsureIndex(m => m.Droppable);
        _rows = database.GetCollection("outbox", BsonAutoId.Int64);
        _mapper = database.Mapper;
        _time = time ?? TimeProvider.System;
        Capacity = capacity;
        if (_rows.FindById(CounterId) is { } counters)
        {
            _last = counters["LastSequence"].AsInt64;
            _dropped = counters["DroppedTotal"].AsInt64;
        }
        else
        {
            // Stores written before the counters moved here kept them in "counters".
            var legacy = database.GetCollection<SettingRecord>("counters");
            _last = long.TryParse(legacy.FindById(LegacySequenceKey)?.Json, out long last) ? last : 0;
            _dropped = long.TryParse(legacy.FindById(LegacyDroppedKey)?.Json, out long dropped) ? dropped : 0;
        }
        _last = Math.Max(_last, _messages.Query().Where(m => m.Id > CounterId).OrderByDescending(m => m.Id).Limit(1).FirstOrDefault()?.Id ?? 0);
        _count = _messages.Count(m => m.Id > CounterId);
    }

    /// <summary>Most messages kept; metrics beyond it drop oldest first.</summary>
    public int Capacity { get; set; }

    /// <summary>Raised after a message is queued (wakes the publisher).</summary>
    public event Action? Enqueued;

    /// <summary>Messages waiting.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
                return _count;
        }
    }

    /// <summary>The sequence number of the last message queued (0 before the first); it survives restarts.</summary>
    public long LastSequence
    {
        get
        {
            lock (_gate)
                return _last;
        }
    }

    /// <summary>Metrics dropped because the outbox was full, since the store was created.</summary>
    public long DroppedTotal
    {
        get
        {
            lock (_gate)
                return _dropped;
        }
    }

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
    /// it); returns the sequence number. Sequence numbers only grow, also across restarts.
    /// </summary>
    public long Enqueue(string topic, Func<long, byte[]> payload, bool retain = false, bool droppable = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentNullException.ThrowIfNull(payload);
        long id;
        lock (_gate)
        {
            id = _last + 1;
            var message = new OutboxMessage { Id = id, Topic = topic, Payload = payload(id), Retain = retain, Droppable = droppable, CreatedTicks = _time.GetUtcNow().UtcTicks };
            var oldest = _count + 1 > Capacity
                ? _messages.Query().Where(m => m.Id > CounterId && m.Droppable).OrderBy(m => m.Id).Limit(_count + 1 - Capacity).ToList().ConvertAll(m => m.Id)
                : [];
            try
            {
                // The message and the counters in one call; the drop is counted before the rows go,
                // so a crash in between can over-count a drop but never hide one.
                _rows.Upsert([Counters(id, _dropped + oldest.Count), _mapper.ToDocument(message)]);
            }
            catch (Exception e) when (e is IOException or LiteException)
            {
                if (DiskSpace.IsFull(e))
                    throw new AgentException(AgentErrorCode.StorageFull, "The outbox cannot take the message: the disk is full.", e);
                throw;
            }
            _last = id;
            _dropped += oldest.Count;
            _count++;
            foreach (long old in oldest)
            {
                if (_messages.Delete(old))
                    _count--;
            }
        }
        Enqueued?.Invoke();
        return id;
    }

    /// <summary>The oldest <paramref name="count"/> messages, in publish order.</summary>
    public IReadOnlyList<OutboxMessage> Peek(int count) => _messages.Query().Where(m => m.Id > CounterId).OrderBy(m => m.Id).Limit(count).ToList();

    /// <summary>Removes message <paramref name="id"/> after its PUBACK.</summary>
    public void Acknowledge(long id)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(id, CounterId);
        lock (_gate)
        {
            if (_messages.Delete(id))
                _count--;
        }
    }

    private static BsonDocument Counters(long last, long dropped) => new()
    {
        ["_id"] = CounterId,
        ["LastSequence"] = last,
        ["DroppedTotal"] = dropped,
    };
}
