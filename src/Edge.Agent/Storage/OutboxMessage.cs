namespace EdgeTL.Agent.Storage;

/// <summary>A message waiting in the outbox. Its id is its place in the publish order.</summary>
public sealed class OutboxMessage
{
    /// <summary>Sequence number (LiteDB auto-increment): publish order and the receivers' dedupe key.</summary>
    public long Id { get; set; }

    /// <summary>MQTT topic.</summary>
    public string Topic { get; set; } = "";

    /// <summary>Payload bytes (UTF-8 JSON).</summary>
    public byte[] Payload { get; set; } = [];

    /// <summary>Publish with the retain flag.</summary>
    public bool Retain { get; set; }

    /// <summary>True for metrics, which may be dropped (oldest first) when the outbox is full; results and events never are.</summary>
    public bool Droppable { get; set; }

    /// <summary>When it was queued (UTC ticks; LiteDB returns DateTime as local time).</summary>
    public long CreatedTicks { get; set; }
}
