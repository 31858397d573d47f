using System.Text.Json;

namespace EdgeTL.Protocol.Commands;

/// <summary>
/// A command as sent to <c>edgetl/{fleet}/{device}/cmd/{name}</c>: <c>{id, name, issuedAt, expiresAt, args}</c>.
/// </summary>
/// <param name="Id">The sender's id, unique per command: 1–128 characters of <c>A–Z a–z 0–9 . _ : -</c>. Replays are deduplicated by it, and results go to <c>…/result/{id}</c>.</param>
/// <param name="Name">The command name; must equal the topic's last level.</param>
/// <param name="IssuedAt">When the sender issued it, ISO 8601 with an offset (<c>2026-12-06T10:00:00Z</c>). Refused as <c>notYetValid</c> when further in the future than the device's allowed clock skew, and as <c>expired</c> when older than the device's command lifetime.</param>
/// <param name="ExpiresAt">Optional: after this time the command is refused as <c>expired</c>.</param>
/// <param name="Args">The command's arguments (see each command's <c>*Args</c> record); absent or null means none.</param>
public sealed record CommandEnvelope(string Id, string Name, DateTimeOffset IssuedAt, DateTimeOffset? ExpiresAt = null, JsonElement? Args = null)
{
    /// <summary>Largest id length.</summary>
    public const int MaxIdLength = 128;

    /// <summary>The id used for results of commands whose own id is missing or unusable as a topic level.</summary>
    public const string InvalidId = "_invalid";

    /// <summary>True when <paramref name="id"/> can be a command id: 1–128 characters of <c>A–Z a–z 0–9 . _ : -</c>.</summary>
    public static bool IsValidId(string? id) =>
        id is { Length: > 0 and <= MaxIdLength } && id != InvalidId && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-');
}
