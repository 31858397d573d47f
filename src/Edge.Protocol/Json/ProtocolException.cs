namespace EdgeTL.Protocol.Json;

/// <summary>A payload that does not fit its protocol record: the message names the field and what it must be.</summary>
public sealed class ProtocolException(string message, Exception? inner = null) : Exception(message, inner);
