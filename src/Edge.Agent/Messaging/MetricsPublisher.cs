using System.Text.Json.Nodes;
using EdgeTL.Agent.Storage;

namespace EdgeTL.Agent.Messaging;

/// <summary>
/// Publishes metrics and events through the outbox on <c>…/metrics/{kind}</c> as
/// <c>{seq, device, kind, at, data}</c>; <c>seq</c> is the outbox sequence number, increasing
/// across restarts, so a receiver sees order and drops repeats.
/// </summary>
public sealed class MetricsPublisher
{
    private readonly Outbox _outbox;
    private readonly AgentTopics _topics;
    private readonly TimeProvider _time;

    /// <summary>Creates the publisher.</summary>
    public MetricsPublisher(Outbox outbox, AgentTopics topics, TimeProvider? time = null)
    {
        _outbox = outbox ?? throw new ArgumentNullException(nameof(outbox));
        _topics = topics ?? throw new ArgumentNullException(nameof(topics));
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Queues a metric of <paramref name="kind"/>; returns its sequence number. Events (drift,
    /// adaptation outcomes) pass <paramref name="droppable"/> false so a full outbox never drops them.
    /// </summary>
    public long Publish(string kind, JsonObject data, bool droppable = true)
    {
        ArgumentNullException.ThrowIfNull(data);
        string topic = _topics.Metrics(kind);
        string at = _time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        string body = data.ToJsonString();
        return _outbox.Enqueue(topic, seq =>
            System.Text.Encoding.UTF8.GetBytes($"{{\"seq\":{seq},\"device\":{JsonValue.Create(_topics.Device).ToJsonString()},\"kind\":{JsonValue.Create(kind).ToJsonString()},\"at\":\"{at}\",\"data\":{body}}}"),
            droppable: droppable);
    }
}
