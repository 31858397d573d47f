using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Protocol.Topics;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeTL.Bench;

/// <summary>
/// Metrics per second to one broker, four ways, each counted by a subscriber until every message
/// has arrived: raw MQTTnet QoS 1 one publish at a time (what the outbox publisher does, less the
/// store), raw with 64 publishes in flight, the agent's durable path (<see cref="MetricsPublisher"/>
/// → <see cref="Outbox"/> → <see cref="OutboxPublisher"/> → <see cref="MqttConnection"/>) with the
/// producer and the drain running together, and a breakdown: enqueue alone, then a stopwatched
/// copy of <c>OutboxPublisher.DrainOnceAsync</c> (Peek / a window of PublishAsync / AcknowledgeThrough
/// per run of PUBACKs) on that backlog.
/// </summary>
internal static class OutboxThroughput
{
    private const string Fleet = "bench";

    /// <summary>The figures of one broker (all in metrics per second, times in µs per metric).</summary>
    public sealed record Figures(double Raw, double RawPipelined, double Outbox, long OutboxCount, double EnqueueOnly, double DrainOnly,
        double EnqueueUs, double PeekUs, double PublishUs, double AckUs, int Window, bool AllArrived);

    public static async Task<Figures> MeasureAsync(int port, string label, double seconds, int outboxWindow)
    {
        var timeout = TimeSpan.FromSeconds(30);
        bool all = true;

        // Raw MQTTnet, one QoS 1 publish at a time (awaiting each PUBACK), the same messages.
        double raw;
        {
            string device = $"raw-{label}";
            await using var counter = await BenchClient.ConnectAsync(port, $"edgetl/{Fleet}/{device}/metrics/#").ConfigureAwait(false);
            await using var publisher = await BenchClient.ConnectAsync(port, null).ConfigureAwait(false);
            string topic = new DeviceTopics(Fleet, device).Metrics(MetricKinds.Training);
            long start = Stopwatch.GetTimestamp();
            long sent = 0;
            while (Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
            {
                sent++;
                await publisher.Client.PublishAsync(Message(topic, Payload(device, sent), sent)).ConfigureAwait(false);
            }
            var (last, arrived) = await counter.WaitForAsync(sent, timeout).ConfigureAwait(false);
            all &= arrived;
            raw = counter.Received / Seconds(start, last);
        }

        // Raw MQTTnet with 64 QoS 1 publishes in flight (no order guarantee across a reconnect).
        double pipelined;
        {
            string device = $"rawpipe-{label}";
            await using var counter = await BenchClient.ConnectAsync(port, $"edgetl/{Fleet}/{device}/metrics/#").ConfigureAwait(false);
            await using var publisher = await BenchClient.ConnectAsync(port, null).ConfigureAwait(false);
            string topic = new DeviceTopics(Fleet, device).Metrics(MetricKinds.Training);
            long start = Stopwatch.GetTimestamp();
            long sent = 0;
            var pending = new List<Task>(64);
            while (Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
            {
                for (int i = 0; i < 64; i++)
                {
                    sent++;
                    pending.Add(publisher.Client.PublishAsync(Message(topic, Payload(device, sent), sent)));
                }
                await Task.WhenAll(pending).ConfigureAwait(false);
                pending.Clear();
            }
            var (last, arrived) = await counter.WaitForAsync(sent, timeout).ConfigureAwait(false);
            all &= arrived;
            pipelined = counter.Received / Seconds(start, last);
        }

        // The agent's durable path: producer and drain together, as in the agent.
        var (outbox, outboxCount, outboxArrived) = await OutboxWayAsync(port, $"outbox-{label}", seconds, timeout, outboxWindow).ConfigureAwait(false);
        all &= outboxArrived;

        // Breakdown: enqueue alone (no drain running), then the drain alone on that backlog, stopwatched.
        double enqueueOnly, drainOnly, enqueueUs, peekUs = 0, publishUs, ackUs = 0;
        int window;
        using (var dir = new TempFolder("edgetl-bench-outbox-"))
        {
            string device = $"parts-{label}";
            await using var counter = await BenchClient.ConnectAsync(port, $"edgetl/{Fleet}/{device}/metrics/#").ConfigureAwait(false);
            using var store = new AgentStore(Path.Combine(dir.Path, "agent.db"));
            store.Outbox.Capacity = int.MaxValue;
            var topics = new DeviceTopics(Fleet, device);
            await using var connection = new MqttConnection(Broker(port), topics, []);
            var metrics = new MetricsPublisher(store.Outbox, topics);
            connection.Start();
            await connection.WaitConnectedAsync(new CancellationTokenSource(timeout).Token).ConfigureAwait(false);
            long start = Stopwatch.GetTimestamp();
            long queued = 0;
            while (Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
            {
                queued++;
                metrics.Publish(MetricKinds.Training, Data(queued), ProtocolJson.Default.TrainingProgress);
            }
            double enqueueSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            enqueueOnly = queued / enqueueSeconds;
            enqueueUs = enqueueSeconds * 1e6 / queued;

            // A stopwatched copy of OutboxPublisher.DrainOnceAsync: up to Window publishes out and not
            // yet removed, removal of each unbroken run of Window / 2 PUBACKs in one call.
            window = Math.Min(outboxWindow, connection.ReceiveMaximum);   // publishes out at once (printed)
            int batch = Math.Max(1, outboxWindow / 2);
            var inFlight = new Queue<(long Id, Task<bool> Acknowledged)>();
            var rows = new Queue<OutboxMessage>();
            long sent = 0, acknowledged = 0, published = 0;
            int waiting = 0;
            long drainStart = Stopwatch.GetTimestamp();
            while (true)
            {
                while (inFlight.Count < window && inFlight.Count + waiting < outboxWindow)
                {
                    if (rows.Count == 0)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        foreach (var row in store.Outbox.Peek(sent, Math.Max(window, 64)))
                            rows.Enqueue(row);
                        peekUs += Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                        if (rows.Count == 0)
                            break;
                    }
                    var message = rows.Dequeue();
                    inFlight.Enqueue((message.Id, connection.PublishAsync(message.Topic, message.Payload, message.Retain, message.Id)));
                    sent = message.Id;
                }
                if (inFlight.Count == 0)
                    break;
                var (id, publish) = inFlight.Dequeue();
                if (!await publish.ConfigureAwait(false))
                    throw new InvalidOperationException("A publish failed during the drain.");
                acknowledged = id;
                waiting++;
                published++;
                if (waiting >= batch || inFlight.Count == 0)
                {
                    long t1 = Stopwatch.GetTimestamp();
                    store.Outbox.AcknowledgeThrough(acknowledged);
                    ackUs += Stopwatch.GetElapsedTime(t1).TotalMicroseconds;
                    waiting = 0;
                }
            }
            double drainUs = Stopwatch.GetElapsedTime(drainStart).TotalMicroseconds;
            var (last, arrived) = await counter.WaitForAsync(queued, timeout).ConfigureAwait(false);
            all &= arrived;
            drainOnly = published / Seconds(drainStart, last);
            publishUs = (drainUs - peekUs - ackUs) / published;   // the rest of the drain's time: publishing, PUBACKs awaited
            peekUs /= published;
            ackUs /= published;
        }
        return new Figures(raw, pipelined, outbox, outboxCount, enqueueOnly, drainOnly, enqueueUs, peekUs, publishUs, ackUs, window, all);
    }

    /// <summary>
    /// Runs the raw one-at-a-time way and the outbox way for <paramref name="seconds"/> each, untimed,
    /// so that what is measured next runs JIT-compiled code with warm caches, as a running agent does.
    /// </summary>
    public static async Task WarmUpAsync(int port, double seconds)
    {
        if (seconds <= 0)
            return;
        await using (var publisher = await BenchClient.ConnectAsync(port, null).ConfigureAwait(false))
        {
            string topic = new DeviceTopics(Fleet, "warmup-raw").Metrics(MetricKinds.Training);
            long start = Stopwatch.GetTimestamp();
            for (long seq = 1; Stopwatch.GetElapsedTime(start).TotalSeconds < seconds; seq++)
                await publisher.Client.PublishAsync(Message(topic, Payload("warmup-raw", seq), seq)).ConfigureAwait(false);
        }
        await OutboxWayAsync(port, "warmup-outbox", seconds, TimeSpan.FromSeconds(30), OutboxPublisher.DefaultWindow).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="MetricsPublisher.Publish"/> → <see cref="Outbox"/> → <see cref="OutboxPublisher"/> →
    /// <see cref="MqttConnection"/> for <paramref name="seconds"/>, producer and drain running together;
    /// the rate is counted by a subscriber until every message has arrived.
    /// </summary>
    private static async Task<(double Rate, long Sent, bool Arrived)> OutboxWayAsync(int port, string device, double seconds, TimeSpan timeout, int window)
    {
        using var dir = new TempFolder("edgetl-bench-outbox-");
        await using var counter = await BenchClient.ConnectAsync(port, $"edgetl/{Fleet}/{device}/metrics/#").ConfigureAwait(false);
        using var store = new AgentStore(Path.Combine(dir.Path, "agent.db"));
        store.Outbox.Capacity = int.MaxValue;   // nothing dropped: every metric must arrive
        var topics = new DeviceTopics(Fleet, device);
        await using var connection = new MqttConnection(Broker(port), topics, []);
        await using var drain = new OutboxPublisher(store.Outbox, connection, window: window);
        var metrics = new MetricsPublisher(store.Outbox, topics);
        connection.Start();
        await connection.WaitConnectedAsync(new CancellationTokenSource(timeout).Token).ConfigureAwait(false);
        drain.Start();
        long start = Stopwatch.GetTimestamp();
        long sent = 0;
        while (Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
        {
            sent++;
            metrics.Publish(MetricKinds.Training, Data(sent), ProtocolJson.Default.TrainingProgress);
        }
        var (last, arrived) = await counter.WaitForAsync(sent, timeout).ConfigureAwait(false);
        return (counter.Received / Seconds(start, last), sent, arrived);
    }

    private static BrokerOptions Broker(int port) =>
        new() { Port = port, ReconnectDelay = TimeSpan.FromMilliseconds(100), MaxReconnectDelay = TimeSpan.FromSeconds(1) };

    private static double Seconds(long start, long end) => Math.Max(1e-6, Stopwatch.GetElapsedTime(start, end).TotalSeconds);

    /// <summary>A training-progress metric, as a job publishes it.</summary>
    private static TrainingProgress Data(long step) => new("bench-job", (int)(step % 100_000), 100_000, 0.2345, 0.9125, 12.5);

    /// <summary>Exactly what <see cref="MetricsPublisher.Publish"/> writes for <paramref name="seq"/>.</summary>
    private static byte[] Payload(string device, long seq) =>
        JsonSerializer.SerializeToUtf8Bytes(new MetricMessage(seq, device, MetricKinds.Training, DateTimeOffset.UtcNow,
            JsonSerializer.SerializeToElement(Data(seq), ProtocolJson.Default.TrainingProgress)), ProtocolJson.Default.MetricMessage);

    /// <summary>The message <see cref="MqttConnection.PublishAsync"/> builds: QoS 1, JSON content type, <c>edgetl-seq</c>.</summary>
    private static MqttApplicationMessage Message(string topic, byte[] payload, long seq) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithContentType("application/json")
            .WithUserProperty("edgetl-seq", new ReadOnlyMemory<byte>(Encoding.UTF8.GetBytes(seq.ToString(CultureInfo.InvariantCulture))))
            .Build();
}
