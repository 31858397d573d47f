using System.Text.Json;

namespace EdgeTL.Agent.Commands;

/// <summary>
/// A remote command as sent over MQTT: <c>{id, name, issuedAt, expiresAt, args}</c>. The id is the
/// sender's, unique per command, and is what replays are deduplicated by.
/// </summary>
public sealed record CommandEnvelope(string Id, string Name, DateTimeOffset IssuedAt, DateTimeOffset? ExpiresAt, JsonElement? Args);
