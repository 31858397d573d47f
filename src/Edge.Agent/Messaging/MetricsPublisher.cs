using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Protocol.Topics;

namespace EdgeTL.Agent.Messaging;

/// <summary>
/// Publishes metrics and events through the outbox on <c>…/metrics/{kind}</c> as a
/// <see cref="MetricMessage"/> <c>{seq, device, kind, at, data}</c>; <c>seq</c> is the outbox
/// sequence number, increasing across restarts, so a receiver sees order and drops repeats.
/// </summary>
public sealed class MetricsPublisher
{
    private readonly Outbox _outbox;
    private readonly DeviceTopics _topics;
    private readonly TimeProvider _time;

    /// <summary>Creates the publisher.</summary>
    public MetricsPublisher(Outbox outbox, DeviceTopics topics, TimeProvider? time = null)
    {
        _outbox = outbox ?? throw new ArgumentNullException(nameof(outbox));
        _topics = topics ?? throw new ArgumentNullException(nameof(topics));
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Queues a metric of <paramref name="kind"/> (see <see cref="MetricKinds"/>) whose data is
    /// <paramref name="data"/>; returns its sequence number. Events (drift, outcomes) pass
    /// <paramref name="droppable"/> false so a full outbox never drops them.
    /// </summary>
    public long Publish<T>(string kind, T data, JsonTypeInfo<T> type, bool droppable = true)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(type);
        string topic = _topics.Metrics(kind);
        var at = _time.GetUtcNow();
        var element = JsonSerializer.SerializeToElement(data, type);
        return _outbox.Enqueue(topic, seq =>
            JsonSerializer.SerializeToUtf8Bytes(new MetricMessage(seq, _topics.Device, kind, at, element), Protocol.Json.ProtocolJson.Default.MetricMessage),
            droppable: droppable);
    }
}
