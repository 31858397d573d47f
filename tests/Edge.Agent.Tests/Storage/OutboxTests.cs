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
        }
        using (var store = new AgentStore(path))
        {
            Assert.Equal(42, store.Outbox.Enqueue("m", Encoding.UTF8.GetBytes("x")));
            Assert.Equal(7, store.Outbox.DroppedTotal);
        }
    }
}
