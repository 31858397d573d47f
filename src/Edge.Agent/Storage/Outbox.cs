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
    private const string DroppedKey = "outbox.dropped_total";
    private const string SequenceKey = "outbox.sequence";
    private readonly ILiteDatabase _database;
    private readonly ILiteCollection<OutboxMessage> _messages;
    private readonly ILiteCollection<SettingRecord> _counters;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    /// <summary>Opens the outbox in <paramref name="database"/>.</summary>
    public Outbox(ILiteDatabase database, TimeProvider? time = null, int capacity = 100_000)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _database = database;
        _messages = database.GetCollection<OutboxMessage>("outbox", BsonAutoId.Int64);
        _messages.EnsureIndex(m => m.Droppable);
        _counters = database.GetCollection<SettingRecord>("counters");
        _time = time ?? TimeProvider.System;
        Capacity = capacity;
    }

    /// <summary>Most messages kept; metrics beyond it drop oldest first.</summary>
    public int Capacity { get; set; }

    /// <summary>Raised after a message is queued (wakes the publisher).</summary>
    public event Action? Enqueued;

    /// <summary>Messages waiting.</summary>
    public int Count => _messages.Count();

    /// <summary>The sequence number of the last message queued (0 before the first); it survives restarts.</summary>
    public long LastSequence => long.TryParse(_counters.FindById(SequenceKey)?.Json, out long n) ? n : 0;

    /// <summary>Metrics dropped because the outbox was full, since the store was created.</summary>
    public long DroppedTotal => long.TryParse(_counters.FindById(DroppedKey)?.Json, out long n) ? n : 0;

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
            try
            {
                _database.BeginTrans();
                id = LastSequence + 1;
                _counters.Upsert(new SettingRecord { Id = SequenceKey, Json = id.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                _messages.Insert(new OutboxMessage { Id = id, Topic = topic, Payload = payload(id), Retain = retain, Droppable = droppable, CreatedTicks = _time.GetUtcNow().UtcTicks });
                int over = _messages.Count() - Capacity;
                if (over > 0)
                {
                    var oldest = _messages.Query().Where(m => m.Droppable).OrderBy(m => m.Id).Limit(over).ToList().ConvertAll(m => m.Id);
                    foreach (long old in oldest)
                        _messages.Delete(old);
                    _counters.Upsert(new SettingRecord { Id = DroppedKey, Json = (DroppedTotal + oldest.Count).ToString(System.Globalization.CultureInfo.InvariantCulture) });
                }
                _database.Commit();
            }
            catch (Exception e) when (e is IOException or LiteException)
            {
                _database.Rollback();
                if (DiskSpace.IsFull(e))
                    throw new AgentException(AgentErrorCode.StorageFull, "The outbox cannot take the message: the disk is full.", e);
                throw;
            }
        }
        Enqueued?.Invoke();
        return id;
    }

    /// <summary>The oldest <paramref name="count"/> messages, in publish order.</summary>
    public IReadOnlyList<OutboxMessage> Peek(int count) => _messages.Query().OrderBy(m => m.Id).Limit(count).ToList();

    /// <summary>Removes message <paramref name="id"/> after its PUBACK.</summary>
    public void Acknowledge(long id)
    {
        lock (_gate)
            _messages.Delete(id);
    }
}
