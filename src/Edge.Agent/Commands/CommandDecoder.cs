using System.Text.Json;
using EdgeTL.Agent.Messaging;

namespace EdgeTL.Agent.Commands;

/// <summary>
/// Turns an MQTT message into a valid <see cref="CommandEnvelope"/> or an error
/// <see cref="CommandResult"/>, never an exception: oversize payloads, other devices' topics,
/// malformed JSON or envelopes, unknown names and expired commands each get their status code.
/// </summary>
public sealed class CommandDecoder
{
    /// <summary>The id used for results of commands whose own id is missing or unusable as a topic level.</summary>
    public const string InvalidId = "_invalid";

    private readonly AgentTopics _topics;
    private readonly TimeProvider _time;

    /// <param name="topics">This device's topics.</param>
    /// <param name="maxPayloadBytes">Largest payload accepted (an <c>ingest</c> image fits in the default 4 MiB).</param>
    /// <param name="time">The clock <c>expiresAt</c> is compared with.</param>
    public CommandDecoder(AgentTopics topics, int maxPayloadBytes = 4 << 20, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(topics);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPayloadBytes, 64);
        _topics = topics;
        MaxPayloadBytes = maxPayloadBytes;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Largest payload accepted.</summary>
    public int MaxPayloadBytes { get; }

    /// <summary>Decodes the message on <paramref name="topic"/> with <paramref name="payload"/>.</summary>
    public CommandDecodeResult Decode(string topic, ReadOnlySpan<byte> payload)
    {
        var now = _time.GetUtcNow();
        if (!_topics.TryParseCommand(topic, out string device, out string topicName))
            return Fail(InvalidId, "", CommandStatus.Malformed, $"'{topic}' is not a command topic of fleet '{_topics.Fleet}'.", now);
        if (device != _topics.Device)
            return Fail(InvalidId, topicName, CommandStatus.WrongDevice, $"The command was sent to device '{device}'; this is '{_topics.Device}'.", now);
        if (payload.Length > MaxPayloadBytes)
            return Fail(InvalidId, topicName, CommandStatus.TooLarge, $"The payload has {payload.Length} bytes; the limit is {MaxPayloadBytes}.", now);

        // JSON strings must be UTF-8; the parser accepts bad bytes inside strings and only fails when they are read.
        if (!System.Text.Unicode.Utf8.IsValid(payload))
            return Fail(InvalidId, topicName, CommandStatus.Malformed, "The payload is not valid UTF-8.", now);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload.ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            return Fail(InvalidId, topicName, CommandStatus.Malformed, $"The payload is not valid JSON: {e.Message}", now);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return Fail(InvalidId, topicName, CommandStatus.Malformed, "The payload must be a JSON object {id, name, issuedAt, expiresAt, args}.", now);
            string? id = String(root, "id");
            if (id is null || !IsUsableId(id))
                return Fail(InvalidId, topicName, CommandStatus.Malformed, "'id' must be a string of 1–128 characters from A–Z a–z 0–9 . _ : -.", now);
            string? name = String(root, "name");
            if (name is null)
                return Fail(id, topicName, CommandStatus.Malformed, "'name' is missing or not a string.", now);
            if (name != topicName)
                return Fail(id, name, CommandStatus.Malformed, $"'name' is '{name}' but the topic says '{topicName}'.", now);
            if (!CommandNames.All.Contains(name))
                return Fail(id, name, CommandStatus.UnknownCommand, $"Unknown command '{name}'. Known: {string.Join(", ", CommandNames.All.Order(StringComparer.Ordinal))}.", now);
            if (!TryTime(root, "issuedAt", out var issuedAt) || issuedAt is null)
                return Fail(id, name, CommandStatus.Malformed, "'issuedAt' must be an ISO 8601 time.", now);
            if (!TryTime(root, "expiresAt", out var expiresAt))
                return Fail(id, name, CommandStatus.Malformed, "'expiresAt' must be an ISO 8601 time or absent.", now);
            if (expiresAt is { } expiry && expiry <= now)
                return Fail(id, name, CommandStatus.Expired, $"The command expired at {expiry:O}.", now);
            JsonElement? args = null;
            if (root.TryGetProperty("args", out var a))
            {
                if (a.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                    return Fail(id, name, CommandStatus.Malformed, "'args' must be an object.", now);
                if (a.ValueKind == JsonValueKind.Object)
                    args = a.Clone();
            }
            return new CommandDecodeResult(new CommandEnvelope(id, name, issuedAt.Value, expiresAt, args), null);
        }
    }

    /// <summary>An id can name a result topic: 1–128 characters of A–Z a–z 0–9 . _ : -.</summary>
    public static bool IsUsableId(string id) =>
        id.Length is > 0 and <= 128 && id != InvalidId && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-');

    private static string? String(JsonElement root, string property)
    {
        if (!root.TryGetProperty(property, out var value) || value.ValueKind != JsonValueKind.String)
            return null;
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;   // an escaped lone surrogate such as "\ud800" is not a string
        }
    }

    private static bool TryTime(JsonElement root, string property, out DateTimeOffset? time)
    {
        time = null;
        if (!root.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
            return true;
        if (value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var parsed))
        {
            time = parsed;
            return true;
        }
        return false;
    }

    private static CommandDecodeResult Fail(string id, string name, CommandStatus status, string message, DateTimeOffset now) =>
        new(null, new CommandResult(id, name, status, message, now));
}
