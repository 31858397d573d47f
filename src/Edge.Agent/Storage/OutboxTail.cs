namespace EdgeTL.Agent.Storage;

/// <summary>
/// The newest outbox messages kept in memory as well (at most <see cref="Outbox.RecentLimit"/>
/// messages and <see cref="Outbox.RecentBytesLimit"/> bytes of payload), so the publisher, following
/// just behind the producers, reads them here instead of querying LiteDB. Thread-safe; the outbox
/// changes it under its own lock, in the same order as the store.
/// </summary>
internal sealed class OutboxTail
{
    private readonly Lock _gate = new();
    private readonly List<OutboxMessage> _messages = [];
    private int _start;     // _messages[.._start] are gone
    private long _bytes;
    private long _floor;    // every stored row from this id on is here
    private long _gone;     // no stored row has an id up to this

    /// <summary>Starts empty after <paramref name="last"/>, the newest stored id; <paramref name="gone"/>: no stored row has an id up to it.</summary>
    public OutboxTail(long last, long gone)
    {
        _floor = last + 1;
        _gone = gone;
    }

    /// <summary>
    /// The oldest <paramref name="count"/> messages after <paramref name="after"/> when this tail holds
    /// every stored one from there on; false (the caller reads the store) otherwise.
    /// </summary>
    public bool TryPeek(long after, int count, List<OutboxMessage> messages)
    {
        lock (_gate)
        {
            long from = Math.Max(after, _gone) + 1;
            if (from < _floor)
                return false;
            for (int i = First(from); i < _messages.Count && messages.Count < count; i++)
                messages.Add(_messages[i]);
            return true;
        }
    }

    /// <summary>Keeps a stored message, forgetting the oldest beyond the limits.</summary>
    public void Add(OutboxMessage message)
    {
        lock (_gate)
        {
            _messages.Add(message);
            _bytes += message.Payload.Length;
            while (_messages.Count - _start > Outbox.RecentLimit || (_bytes > Outbox.RecentBytesLimit && _start < _messages.Count))
            {
                var oldest = _messages[_start++];
                _bytes -= oldest.Payload.Length;
                _floor = oldest.Id + 1;
            }
            Compact();
        }
    }

    /// <summary>Forgets message <paramref name="id"/>, no longer stored.</summary>
    public void Remove(long id)
    {
        lock (_gate)
        {
            int i = First(id);
            if (i < _messages.Count && _messages[i].Id == id)
            {
                _bytes -= _messages[i].Payload.Length;
                _messages.RemoveAt(i);
            }
        }
    }

    /// <summary>Forgets every message up to and including <paramref name="id"/>, no longer stored.</summary>
    public void RemoveThrough(long id)
    {
        lock (_gate)
        {
            _gone = Math.Max(_gone, id);
            int keep = First(id + 1);
            for (int i = _start; i < keep; i++)
                _bytes -= _messages[i].Payload.Length;
            _start = keep;
            Compact();
        }
    }

    /// <summary>The index of the first message with an id of at least <paramref name="id"/> (under the lock).</summary>
    private int First(long id)
    {
        int low = _start, high = _messages.Count;
        while (low < high)
        {
            int mid = (low + high) >>> 1;
            if (_messages[mid].Id < id)
                low = mid + 1;
            else
                high = mid;
        }
        return low;
    }

    /// <summary>Drops the forgotten head of the list once it is half the list (under the lock).</summary>
    private void Compact()
    {
        if (_start > 64 && _start * 2 >= _messages.Count)
        {
            _messages.RemoveRange(0, _start);
            _start = 0;
        }
    }
}
