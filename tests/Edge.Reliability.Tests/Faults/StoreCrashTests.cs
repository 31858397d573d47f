using EdgeTL.Agent.Storage;
using EdgeTL.Reliability.Tests.Harness;
using LiteDB;
using Xunit.Abstractions;

namespace EdgeTL.Reliability.Tests.Faults;

/// <summary>
/// R7: a process writing to the agent's LiteDB store (samples, outbox messages, inbox claims
/// with their results) is killed with SIGKILL at random points, 20 times, on the same file. Every
/// time, the store opens and every write that had returned (and was printed) is there.
/// </summary>
public sealed class StoreCrashTests(ITestOutputHelper output)
{
    [Fact]
    public void SIGKILL_during_store_writes_leaves_a_store_that_opens_with_every_acknowledged_write()
    {
        using var dir = new TempDirectory("edgetl-r7-");
        string db = Path.Combine(dir.Path, "agent.db");
        var random = new Random(11);
        var samples = new List<long>();
        var messages = new List<long>();
        var commands = new List<string>();

        for (int kill = 0; kill < 20; kill++)
        {
            var lines = CrashTarget.RunAndKill(["store", db], TimeSpan.FromMilliseconds(random.Next(50, 400)));
            Assert.DoesNotContain(lines, l => l.StartsWith("stderr:", StringComparison.Ordinal));
            foreach (var line in lines)
            {
                var parts = line.Split(' ', 2);
                switch (parts[0])
                {
                    case "sample": samples.Add(long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)); break;
                    case "outbox": messages.Add(long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)); break;
                    case "inbox": commands.Add(parts[1]); break;
                }
            }

            using var store = new AgentStore(db);   // the restart: LiteDB replays its journal here
            var sampleIds = store.Database.GetCollection("samples").FindAll().Select(d => d["_id"].AsInt64).ToHashSet();
            var messageIds = store.Database.GetCollection("outbox").FindAll().Select(d => d["_id"].AsInt64).ToHashSet();
            var inbox = store.Database.GetCollection("inbox");
            Assert.All(samples, id => Assert.Contains(id, sampleIds));
            Assert.All(messages, id => Assert.Contains(id, messageIds));
            Assert.All(commands, id => Assert.False(inbox.FindById(new BsonValue(id))?["ResultJson"].IsNull ?? true, $"command {id} or its result is missing"));
            Assert.True(store.Outbox.LastSequence >= messages.DefaultIfEmpty().Max());
        }
        output.WriteLine($"20 SIGKILLs; acknowledged before the kills: {samples.Count} samples, {messages.Count} outbox messages, {commands.Count} inbox results; all present after every reopen");
        Assert.True(samples.Count + messages.Count + commands.Count >= 100, "too few writes were acknowledged to exercise the store");
    }
}
