namespace EdgeTL.Agent.Storage;

/// <summary>One ingested sample: an encoded image, an optional label, its domain and arrival time.</summary>
public sealed class SampleRecord
{
    /// <summary>Sequence number (auto-increment).</summary>
    public long Id { get; set; }

    /// <summary>The encoded image (PNG, JPEG or PGM).</summary>
    public byte[] Image { get; set; } = [];

    /// <summary>Class label, when known.</summary>
    public string? Label { get; set; }

    /// <summary>Domain ("source", "target", or any name the sender uses).</summary>
    public string Domain { get; set; } = "target";

    /// <summary>Where it came from (mqtt, folder:…, camera).</summary>
    public string Origin { get; set; } = "";

    /// <summary>Arrival time, UTC ticks.</summary>
    public long ReceivedTicks { get; set; }
}
