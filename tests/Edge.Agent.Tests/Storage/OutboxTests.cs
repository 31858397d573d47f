using System.Text;
using EdgeTL.Agent.Storage;

namespace EdgeTL.Agent.Tests.Storage;

/// <summary>The outbox in a real LiteDB file: order, sequence numbers across reopen, and the cap.</summary>
public sealed class OutboxTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-outbox-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Enqueue_CapReached_DropsOldestMetricsCountsThemAndKeepsResults()
    {
        using var store = new AgentStore(Path.Combine(_dir, "agent.db"));
        store.Outbox.Capacity = 10;
        long result = store.Outbox.Enqueue("r/1", Encoding.UTF8.GetBytes("result"), droppable: false);
        for (int i = 0; i < 15; i++)
            store.Outbox.Enqueue("m", Encoding.UTF8.GetBytes($"metric {i}"));

        var rows = store.Outbox.Peek(100);
        Assert.Equal(10, rows.Count);
        Assert.Equal(6, store.Outbox.DroppedTotal);                     // 16 rows for 10 places: the 6 oldest metrics went
        Assert.Equal(result, rows[0].Id);                               // the result stayed, first in line
        Assert.Equal("metric 6", Encoding.UTF8.GetString(rows[1].Payload));
        Assert.Equal(rows.Select(r => r.Id).Order(), rows.Select(r => r.Id));
    }

    [Fact]
    public void Enqueue_AfterReopen_SequenceKeepsGrowingAndRowsSurvive()
    {
        string path = Path.Combine(_dir, "agent.db");
        long last;
        using (var store = new AgentStore(path))
        {
            for (int i = 0; i < 5; i++)
                last = store.Outbox.Enqueue("m", seq => Encoding.UTF8.GetBytes($"{{\"seq\":{seq}}}"));
            var first = store.Outbox.Peek(1)[0];
            store.Outbox.Acknowledge(first.Id);
            last = store.Outbox.Peek(10)[^1].Id;
        }
        using (var store = new AgentStore(path))
        {
            Assert.Equal(4, store.Outbox.Count);
            long next = store.Outbox.Enqueue("m", seq => Encoding.UTF8.GetBytes($"{{\"seq\":{seq}}}"));
            Assert.Equal(last + 1, next);
            Assert.Equal($"{{\"seq\":{next}}}", Encoding.UTF8.GetString(store.Outbox.Peek(10)[^1].Payload));
        }
    }

    [Fact]
    public void Enqueue_EverythingAcknowledgedThenReopened_SequenceStillGrows()
    {
        string path = Path.Combine(_dir, "agent.db");
        using (var store = new AgentStore(path))
        {
            for (int i = 0; i < 3; i++)
                store.Outbox.Acknowledge(store.Outbox.Enqueue("m", Encoding.UTF8.GetBytes("x")));
            Assert.Equal(0, store.Outbox.Count);
        }
        using (var store = new AgentStore(path))
        {
            Assert.Equal(3, store.Outbox.LastSequence);
            Assert.Equal(4, store.Outbox.Enqueue("m", Encoding.UTF8.GetBytes("y")));
            Assert.Equal(1, store.Outbox.Count);
        }
    }

    [Fact]
    public void Open_StoreWithCountersOfTheEarlierLayout_ContinuesItsSequenceAndDropCount()
    {
        string path = Path.Combine(_dir, "agent.db");
        using (var store = new AgentStore(path))
        {
            var counters = store.Database.GetCollection<SettingRecord>("counters");
            counters.Upsert(new SettingRecord { Id = "outbox.sequence", Json = "41" });
            counters.Upsert(new SettingRecord { Id = "outbox.dropped_total", Json = "7" });
            store.Database.GetCollection("outbox").Delete(0);   // that layout had no counters row (opening a new store writes one)
        }
        using (var store = new AgentStore(path))
        {
            Assert.Equal(42, store.Outbox.Enqueue("m", Encoding.UTF8.GetBytes("x")));
            Assert.Equal(7, store.Outbox.DroppedTotal);
        }
    }

    [Fact]
    public void AcknowledgeThrough_RemovesTheRunInOneCall_AndTheSequenceSurvivesAnEmptyReopenedOutbox()
    {
        string path = Path.Combine(_dir, "agent.db");
        using (var store = new AgentStore(path))
        {
            for (int i = 0; i < 10; i++)
                store.Outbox.Enqueue("m", Encoding.UTF8.GetBytes($"metric {i}"));
            store.Outbox.AcknowledgeThrough(4);
            Assert.Equal(6, store.Outbox.Count);
            Assert.Equal(5, store.Outbox.Peek(1)[0].Id);
            store.Outbox.AcknowledgeThrough(10);
            Assert.Equal(0, store.Outbox.Count);
            Assert.Empty(store.Outbox.Peek(10));
        }
        using (var store = new AgentStore(path))
        {
            Assert.Equal(0, store.Outbox.Count);
            Assert.Equal(10, store.Outbox.LastSequence);
            Assert.Equal(11, store.Outbox.Enqueue("m", Encoding.UTF8.GetBytes("next")));
        }
    }

    [Fact]
    public void Peek_AfterASequence_GivesTheStoredRowsInOrder_FromMemoryAndFromTheStoreAlike()
    {
        string path = Path.Combine(_dir, "agent.db");
        int total = Outbox.RecentLimit + 500;   // the oldest 500 are no longer held in memory
        using (var store = new AgentStore(path))
        {
            store.Outbox.Capacity = total - 100;   // and the oldest 100 metrics are dropped
            long result = 0;
            for (int i = 1; i <= total; i++)
            {
                long id = store.Outbox.Enqueue("m", Encoding.UTF8.GetBytes($"p{i}"), droppable: i != 50);
                if (i == 50)
                    result = id;
            }
            var stored = store.Database.GetCollection("outbox").Find(LiteDB.Query.GT("_id", 0L)).Select(d => d["_id"].AsInt64).Order().ToList();
            Assert.Equal(total - 100, stored.Count);
            Assert.Contains(result, stored);   // never dropped
            foreach (long after in new long[] { 0, 49, 50, 101, 499, 500, 501, total - 70, total - 1, total })
            {
                var peeked = store.Outbox.Peek(after, 64);
                Assert.Equal(stored.Where(id => id > after).Take(64), peeked.Select(m => m.Id));
                Assert.All(peeked, m => Assert.Equal($"p{m.Id}", Encoding.UTF8.GetString(m.Payload)));
            }
            store.Outbox.AcknowledgeThrough(total - 10);
            Assert.Equal(Enumerable.Range(total - 9, 10).Select(n => (long)n), store.Outbox.Peek(0, 64).Select(m => m.Id));
            store.Outbox.Acknowledge(total - 5);
            Assert.DoesNotContain(total - 5, store.Outbox.Peek(total - 8, 64).Select(m => m.Id));
        }
        using (var store = new AgentStore(path))
            Assert.Equal(new long[] { total - 9, total - 8, total - 7, total - 6, total - 4, total - 3, total - 2, total - 1, total }, store.Outbox.Peek(0, 64).Select(m => m.Id));
    }
}
