namespace EdgeTL.Agent.Messaging;

/// <summary>A message the agent received: its topic and payload.</summary>
public sealed record IncomingMessage(string Topic, byte[] Payload);
