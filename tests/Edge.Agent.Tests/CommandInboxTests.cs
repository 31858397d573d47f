using EdgeTL.Agent.Storage;
using LiteDB;

namespace EdgeTL.Agent.Tests;

public sealed class CommandInboxTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgetl-inbox-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string DbPath => Path.Combine(_dir, "agent.db");

    [Fact]
    public void The_same_command_1000_times_including_across_a_restart_is_executed_once()
    {
        int executed = 0;
        for (int restart = 0; restart < 2; restart++)
        {
            using var db = new LiteDatabase($"Filename={DbPath};Connection=direct");
            var inbox = new CommandInbox(db);
            for (int i = 0; i < 500; i++)
            {
                if (inbox.TryClaim("cmd-42", "finetune", out var existing))
                {
                    executed++;
                    inbox.Complete("cmd-42", """{"status":"Ok"}""");
                }
                else
                {
                    Assert.Equal("""{"status":"Ok"}""", existing!.ResultJson);
                }
            }
        }
        Assert.Equal(1, executed);
    }

    [Fact]
    public void Concurrent_replays_claim_once()
    {
        using var db = new LiteDatabase($"Filename={DbPath};Connection=direct");
        var inbox = new CommandInbox(db);
        int claims = 0;
        Parallel.For(0, 200, attempt =>
        {
            if (inbox.TryClaim("cmd-7", "status", out _))
                Interlocked.Increment(ref claims);
        });
        Assert.Equal(1, claims);
    }

    [Fact]
    public void Old_ids_are_pruned_after_the_retention()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        using var db = new LiteDatabase($"Filename={DbPath};Connection=direct");
        var inbox = new CommandInbox(db, time, TimeSpan.FromDays(7));
        Assert.True(inbox.TryClaim("old", "status", out _));
        time.Now = time.Now.AddDays(8);
        Assert.True(inbox.TryClaim("new", "status", out _));
        Assert.Equal(1, inbox.Prune());
        Assert.Equal(1, inbox.Count);
        Assert.False(inbox.TryClaim("new", "status", out _));
    }

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
