namespace EdgeTL.Agent.Hosting;

/// <summary>Whether the service starts its own in-process broker (<c>run --embedded</c>).</summary>
public sealed record EmbeddedBrokerSettings(bool Enabled);
