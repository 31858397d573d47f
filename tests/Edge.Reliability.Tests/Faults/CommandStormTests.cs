using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeTL.Agent.Storage;
using EdgeTL.Agent.Tests.Integration;
using EdgeTL.Protocol.Commands;
using EdgeTL.Reliability.Tests.Harness;
using Xunit.Abstractions;

namespace EdgeTL.Reliability.Tests.Faults;

/// <summary>
/// R10/R11 and replay, against the agent process over a real mosquitto: hostile commands by the
/// ten thousand, bursts far beyond the queue, and one command sent a thousand times across a
/// SIGKILL. Every message gets exactly one final structured answer; nothing crashes; a command
/// runs once. The 100k-case and 60-second versions are <c>bench/soak.sh r11</c> and <c>r10</c>.
/// </summary>
public sealed class CommandStormTests(ITestOutputHelper output)
{
    /// <summary>Every status of the protocol, as it is spelled on the wire.</summary>
    private static readonly HashSet<string> Statuses = [.. Enum.GetNames<CommandStatus>().Select(JsonNamingPolicy.CamelCase.ConvertName)];

    [Fact]
    public async Task Ten_thousand_mutated_oversized_and_unknown_commands_each_get_one_structured_answer_and_nothing_crashes()
    {
        int cases = SoakSettings.FuzzCases;
        using var dir = new TempDirectory("edgetl-r11-");
        using var mosquitto = new MosquittoBroker();
        await using var cloud = await TestClient.ConnectAsync(mosquitto.Port, "test", "dev1");
        await using var fleetObserver = await TestClient.ConnectAsync(mosquitto.Port, "test", "+", "observer");   // sees every device's topics
        using var agent = new AgentProcess(dir.Path, mosquitto.Port, configure: a => a["MaxCommandBytes"] = 16_384);
        agent.Start();
        var fuzzer = new CommandFuzzer("test", "dev1", maxCommandBytes: 16_384, seed: 2026);

        var started = DateTime.UtcNow;
        for (int i = 0; i < cases; i++)
        {
            var (topic, payload) = fuzzer.Next();
            await cloud.PublishAsync(topic, payload);
        }
        // Commands for other devices never reach this agent: it subscribes to its own command topics only.
        int forOthers = fuzzer.Kinds.GetValueOrDefault("other-device");
        int expected = cases - forOthers;
        var finals = await WaitForFinalResultsAsync(cloud, expected, TimeSpan.FromSeconds(120 + cases / 50));
        var elapsed = DateTime.UtcNow - started;

        string status = await cloud.SendAsync("test", "dev1", "status");
        TestClient.AssertStatus(await cloud.FinalResultAsync(status, TimeSpan.FromSeconds(20)), "ok");
        var byStatus = finals.GroupBy(r => r["status"]?.GetValue<string>() ?? "(none)").ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"{cases} cases ({string.Join(", ", fuzzer.Kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))}) in {elapsed.TotalSeconds:F1} s");
        output.WriteLine($"final answers: {finals.Count} of {expected} addressed to dev1 ({string.Join(", ", byStatus.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))})");

        Assert.True(forOthers > 0, "the fuzzer sent nothing addressed to another device");
        Assert.Equal(expected, finals.Count);   // one final answer per message addressed to this device, none lost, none extra
        Assert.DoesNotContain(fleetObserver.Received, m => m.Topic.Contains("/result/", StringComparison.Ordinal) && !m.Topic.StartsWith("edgetl/test/dev1/", StringComparison.Ordinal));
        Assert.All(finals, r => Assert.Contains(r["status"]?.GetValue<string>() ?? "", Statuses));
        Assert.All(finals, r => Assert.False(string.IsNullOrEmpty(r["message"]?.GetValue<string>()), r.ToJsonString()));
        var internalErrors = finals.Where(r => r["data"] is JsonObject d && d["code"]?.GetValue<string>() == "Internal").Select(r => r.ToJsonString()).ToList();
        Assert.True(internalErrors.Count == 0, $"unhandled exceptions in handlers:\n{string.Join("\n", internalErrors.Take(5))}\n{agent.Tail()}");
        Assert.Empty(agent.CrashLines());
        Assert.NotEqual(0, agent.Pid);
    }

    [Fact]
    public async Task Bursts_far_beyond_the_queue_get_busy_answers_and_every_command_one_final_answer()
    {
        using var dir = new TempDirectory("edgetl-r10-");
        using var mosquitto = new MosquittoBroker();
        await using var cloud = await TestClient.ConnectAsync(mosquitto.Port, "test", "dev1");
        using var agent = new AgentProcess(dir.Path, mosquitto.Port, configure: a => a["CommandQueueCapacity"] = 4);
        agent.Start();
        var ids = new List<string>();

        // 100 commands per second, then 500 at once (published without waiting for each other).
        for (int second = 0; second < SoakSettings.BurstSeconds; second++)
        {
            var tick = Task.Delay(1000);
            for (int i = 0; i < 100; i++)
                ids.Add(await cloud.SendAsync("test", "dev1", i % 10 == 0 ? "evaluate" : "status"));
            await tick;
        }
        var burst = Enumerable.Range(0, 500).Select(_ => cloud.SendAsync("test", "dev1", "status")).ToList();
        ids.AddRange(await Task.WhenAll(burst));

        var finals = await WaitForFinalResultsAsync(cloud, ids.Count, TimeSpan.FromSeconds(60 + ids.Count / 20));
        var answered = finals.Select(r => r["id"]!.GetValue<string>()).ToHashSet();
        int busy = finals.Count(r => r["status"]!.GetValue<string>() == "busy");
        output.WriteLine($"{ids.Count} commands ({SoakSettings.BurstSeconds} s at 100/s, then a burst of 500) into a queue of 4: {finals.Count} final answers, {busy} busy, " +
            $"{finals.Count(r => r["status"]!.GetValue<string>() == "ok")} ok");

        var unanswered = ids.Where(id => !answered.Contains(id)).ToList();
        foreach (var id in unanswered.Take(5))
            output.WriteLine($"no answer for {id}; the agent's log says: {string.Join(" | ", agent.Output.Where(l => l.Contains(id, StringComparison.Ordinal)))}");
        if (unanswered.Count > 0)
        {
            output.WriteLine($"unanswered at send positions {string.Join(", ", unanswered.Select(id => ids.IndexOf(id)))}");
            output.WriteLine(string.Join('\n', agent.Output.Where(l => !l.Contains("Command ", StringComparison.Ordinal))));
        }
        Assert.Empty(unanswered);
        Assert.Equal(ids.Count, finals.Count);
        Assert.True(busy > 0, "the burst never filled the queue of 4");
        Assert.Empty(agent.CrashLines());
        Assert.NotEqual(0, agent.Pid);
    }

    [Fact]
    public async Task One_command_sent_a_thousand_times_across_a_SIGKILL_runs_once()
    {
        using var dir = new TempDirectory("edgetl-replay-");
        using var mosquitto = new MosquittoBroker();
        await using var cloud = await TestClient.ConnectAsync(mosquitto.Port, "test", "dev1");
        using var agent = new AgentProcess(dir.Path, mosquitto.Port, configure: a => a["CommandQueueCapacity"] = 2048);
        agent.Start();
        var args = SampleImages.IngestArgs(SampleImages.FirstFiveClasses(1, seed: 1), 0, labelled: true, domain: "target");
        const string id = "ingest-replayed-1";

        for (int i = 0; i < 500; i++)
            await cloud.SendAsync("test", "dev1", "ingest", args, id);
        await TestClient.WaitAsync(() => cloud.Results(id).Count >= 500 ? "" : null, TimeSpan.FromSeconds(60), "500 answers");
        agent.Kill();
        agent.Start();
        for (int i = 0; i < 500; i++)
            await cloud.SendAsync("test", "dev1", "ingest", args, id);
        await TestClient.WaitAsync(() => cloud.Results(id).Count >= 1000 ? "" : null, TimeSpan.FromSeconds(60), "1000 answers");
        agent.Terminate(TimeSpan.FromSeconds(30));

        var results = cloud.Results(id);
        int ok = results.Count(r => r["status"]!.GetValue<string>() == "ok");
        int duplicate = results.Count(r => r["status"]!.GetValue<string>() == "duplicate");
        int stored;
        using (var store = new AgentStore(Path.Combine(agent.DataDirectory, "agent.db")))
            stored = store.Samples.Count;
        output.WriteLine($"1000 sends of one id (500, SIGKILL, restart, 500): {results.Count} answers, {ok} ok, {duplicate} duplicate; samples stored: {stored}");

        Assert.Equal(1, ok);
        Assert.Equal(999, duplicate);
        Assert.Equal(1, stored);
    }

    /// <summary>Waits until <paramref name="count"/> final (not "accepted") results have arrived, then a little longer to catch extras.</summary>
    private static async Task<List<JsonObject>> WaitForFinalResultsAsync(TestClient cloud, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Finals(cloud).Count < count && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        await Task.Delay(1000);
        return Finals(cloud);
    }

    private static List<JsonObject> Finals(TestClient cloud) =>
        [.. cloud.Received.Where(m => m.Topic.Contains("/result/", StringComparison.Ordinal)).Select(m => m.Json).Where(r => r["status"]?.GetValue<string>() != "accepted")];
}
