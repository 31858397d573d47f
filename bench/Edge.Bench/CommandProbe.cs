using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeTL.Bench;

/// <summary>
/// The cloud side of the command path: sends <c>status</c> commands to one device at a fixed
/// rate (open loop: on schedule, whether or not answers came) and times each from the moment it
/// is handed to the MQTT client to the moment its result arrives on <c>result/{id}</c>.
/// </summary>
internal sealed class CommandProbe : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (long At, bool Ok)> _answers = new(StringComparer.Ordinal);
    private readonly string _fleet;
    private readonly string _device;
    private BenchClient _client = null!;

    private CommandProbe(string fleet, string device)
    {
        _fleet = fleet;
        _device = device;
    }

    /// <summary>What one run at one rate measured; latencies in milliseconds (a missing answer counts as infinite).</summary>
    public sealed record Step(double Rate, double SentRate, int Sent, int Answered, int NotOk, double P50, double P99, double Max);

    /// <summary>Connects and subscribes to the device's results.</summary>
    public static async Task<CommandProbe> ConnectAsync(int port, string fleet, string device)
    {
        var probe = new CommandProbe(fleet, device);
        probe._client = await BenchClient.ConnectAsync(port, $"edgetl/{fleet}/{device}/result/+", probe.OnResult).ConfigureAwait(false);
        return probe;
    }

    /// <summary>Sends one <c>status</c> command and waits for its answer (to know the agent is up).</summary>
    public async Task<bool> PingAsync(TimeSpan timeout)
    {
        string id = $"ping-{Guid.NewGuid():N}";
        await _client.PublishAsync(Topic(), Envelope(id)).ConfigureAwait(false);
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!_answers.ContainsKey(id) && Stopwatch.GetTimestamp() < deadline)
            await Task.Delay(10).ConfigureAwait(false);
        return _answers.ContainsKey(id);
    }

    /// <summary>Sends <paramref name="rate"/> commands per second for <paramref name="seconds"/>, then waits (up to 10 s of silence) for the answers.</summary>
    public async Task<Step> RunAsync(double rate, double seconds, string prefix, CancellationToken cancellationToken = default)
    {
        var sent = new List<(string Id, long At)>();
        var pending = new List<Task>();
        string topic = Topic();
        long start = Stopwatch.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (elapsed >= seconds)
                break;
            long due = (long)(elapsed * rate) + 1;
            while (sent.Count < due)
            {
                string id = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{sent.Count}");
                byte[] envelope = Envelope(id);
                sent.Add((id, Stopwatch.GetTimestamp()));
                pending.Add(_client.PublishAsync(topic, envelope));
            }
            if (pending.Count > 1000)
            {
                foreach (var done in pending.Where(t => t.IsCompleted))
                    await done.ConfigureAwait(false);   // surfaces a failed publish
                pending.RemoveAll(t => t.IsCompleted);
            }
            await Task.Delay(1, CancellationToken.None).ConfigureAwait(false);
        }
        double sentRate = sent.Count / Stopwatch.GetElapsedTime(start).TotalSeconds;
        await Task.WhenAll(pending).ConfigureAwait(false);

        int answered = 0;
        var lastProgress = Stopwatch.GetTimestamp();
        while (true)
        {
            int now = sent.Count(s => _answers.ContainsKey(s.Id));
            if (now == sent.Count)
                break;
            if (now != answered)
            {
                answered = now;
                lastProgress = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastProgress).TotalSeconds > 10)
            {
                break;
            }
            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        }

        var latencies = new double[sent.Count];
        answered = 0;
        int notOk = 0;
        for (int i = 0; i < sent.Count; i++)
        {
            if (_answers.TryRemove(sent[i].Id, out var answer))
            {
                answered++;
                if (!answer.Ok)
                    notOk++;
                latencies[i] = Stopwatch.GetElapsedTime(sent[i].At, answer.At).TotalMilliseconds;
            }
            else
            {
                latencies[i] = double.PositiveInfinity;
            }
        }
        Array.Sort(latencies);
        return new Step(rate, sentRate, sent.Count, answered, notOk, Percentile(latencies, 0.50), Percentile(latencies, 0.99), latencies.Length == 0 ? 0 : latencies[^1]);
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private string Topic() => $"edgetl/{_fleet}/{_device}/cmd/status";

    private static byte[] Envelope(string id) => Encoding.UTF8.GetBytes(
        $"{{\"id\":\"{id}\",\"name\":\"status\",\"issuedAt\":\"{DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture)}\",\"args\":{{}}}}");

    private void OnResult(string topic, ReadOnlyMemory<byte> payload, long at)
    {
        string id = topic[(topic.LastIndexOf('/') + 1)..];
        bool ok = false;
        try
        {
            using var json = JsonDocument.Parse(payload);
            ok = json.RootElement.TryGetProperty("status", out var status) && status.ValueEquals("ok"u8);
        }
        catch (JsonException)
        {
        }
        _answers.TryAdd(id, (at, ok));
    }

    /// <summary>Disconnects.</summary>
    public ValueTask DisposeAsync() => _client.DisposeAsync();
}
