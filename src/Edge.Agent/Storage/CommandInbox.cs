using LiteDB;

namespace EdgeTL.Agent.Storage;

/// <summary>
/// The persisted command inbox: a command id is claimed once, in the same LiteDB file across
/// restarts, so a replayed command (the broker redelivering QoS 1, a cloud retry, an attacker
/// replaying a capture) never runs twice. A duplicate gets the first run's result when it has one.
/// Ids are kept for <see cref="Retention"/>; older ones are pruned (commands that old are expired anyway).
/// </summary>
public sealed class CommandInbox
{
    private readonly ILiteCollection<InboxEntry> _entries;
    private readonly TimeProvider _time;

    /// <param name="database">The agent's LiteDB database.</param>
    /// <param name="time">The clock for arrival times and pruning.</param>
    /// <param name="retention">How long ids are remembered (7 days by default).</param>
    public CommandInbox(ILiteDatabase database, TimeProvider? time = null, TimeSpan? retention = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        _entries = database.GetCollection<InboxEntry>("inbox");
        _entries.EnsureIndex(e => e.ReceivedUtc);
        _time = time ?? TimeProvider.System;
        Retention = retention ?? TimeSpan.FromDays(7);
    }

    /// <summary>How long ids are remembered.</summary>
    public TimeSpan Retention { get; }

    /// <summary>
    /// Claims <paramref name="id"/>: true the first time (the caller runs the command), false for a
    /// duplicate, with the stored entry. The insert is the claim: LiteDB's unique key decides.
    /// A full disk is <see cref="AgentErrorCode.StorageFull"/> (nothing is claimed then).
    /// </summary>
    public bool TryClaim(string id, string name, out InboxEntry? existing)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var entry = new InboxEntry { Id = id, Name = name, ReceivedUtc = _time.GetUtcNow().UtcDateTime };
        try
        {
            _entries.Insert(entry);
            existing = null;
            return true;
        }
        catch (LiteException e) when (e.ErrorCode == LiteException.INDEX_DUPLICATE_KEY)
        {
            existing = _entries.FindById(id);
            return false;
        }
        catch (Exception e) when (DiskSpace.IsFull(e))
        {
            throw new AgentException(AgentErrorCode.StorageFull, $"Command {id} could not be recorded (replay protection): the disk is full. It was not run.", e);
        }
    }

    /// <summary>
    /// Stores the result of a claimed command, so duplicates can be answered with it. A full disk is
    /// <see cref="AgentErrorCode.StorageFull"/> (the claim stays, without its result).
    /// </summary>
    public void Complete(string id, string resultJson)
    {
        var entry = _entries.FindById(id) ?? throw new InvalidOperationException($"Command '{id}' was never claimed.");
        entry.ResultJson = resultJson;
        try
        {
            _entries.Update(entry);
        }
        catch (Exception e) when (DiskSpace.IsFull(e))
        {
            throw new AgentException(AgentErrorCode.StorageFull, $"The result of command {id} could not be recorded: the disk is full.", e);
        }
    }

    /// <summary>
    /// Marks claimed command <paramref name="id"/> as a running job of <paramref name="kind"/>: if the
    /// agent stops before <see cref="Complete"/>, <see cref="Interrupted"/> lists it at the next start.
    /// </summary>
    public void MarkAccepted(string id, string kind)
    {
        var entry = _entries.FindById(id) ?? throw new InvalidOperationException($"Command '{id}' was never claimed.");
        entry.JobKind = kind;
        entry.AcceptedUtc = _time.GetUtcNow().UtcDateTime;
        Update(entry);
    }

    /// <summary>Records how far job <paramref name="id"/> got (best effort: a full disk skips it).</summary>
    public void RecordProgress(string id, string progressJson)
    {
        if (_entries.FindById(id) is not { } entry)
            return;
        entry.ProgressJson = progressJson;
        try
        {
            _entries.Update(entry);
        }
        catch (Exception e) when (DiskSpace.IsFull(e))
        {
        }
    }

    /// <summary>Jobs that were accepted and never completed: the agent stopped while they ran.</summary>
    public IReadOnlyList<InboxEntry> Interrupted() =>
        [.. _entries.Find(e => e.JobKind != null && e.ResultJson == null).OrderBy(e => e.AcceptedUtc)];

    /// <summary>The stored entry of <paramref name="id"/>, or null.</summary>
    public InboxEntry? Find(string id) => _entries.FindById(id);

    private void Update(InboxEntry entry)
    {
        try
        {
            _entries.Update(entry);
        }
        catch (Exception e) when (DiskSpace.IsFull(e))
        {
            throw new AgentException(AgentErrorCode.StorageFull, $"Command {entry.Id} could not be updated: the disk is full.", e);
        }
    }

    /// <summary>Forgets ids older than <see cref="Retention"/>; returns how many.</summary>
    public int Prune()
    {
        var cutoff = _time.GetUtcNow().UtcDateTime - Retention;
        return _entries.DeleteMany(e => e.ReceivedUtc < cutoff);
    }

    /// <summary>Number of remembered ids.</summary>
    public int Count => _entries.Count();
}
