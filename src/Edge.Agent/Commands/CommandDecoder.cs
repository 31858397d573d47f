using System.Text.Json;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Topics;

namespace EdgeTL.Agent.Commands;

/// <summary>
/// Turns an MQTT message into a valid <see cref="CommandEnvelope"/> or an error
/// <see cref="CommandResult"/>, never an exception: oversize payloads, other devices' topics,
/// malformed JSON or envelopes, unknown names, expired commands and commands from a clock too far
/// ahead each get their status code. Whenever the payload's <c>id</c> can be read, even from a
/// payload refused for another reason, the error goes to that id's result topic; otherwise to
/// <c>result/_invalid</c>.
/// </summary>
public sealed class CommandDecoder
{
    /// <summary>The id used for results of commands whose own id is missing or unusable as a topic level.</summary>
    public const string InvalidId = CommandEnvelope.InvalidId;

    private readonly DeviceTopics _topics;
    private readonly TimeProvider _time;

    /// <param name="topics">This device's topics.</param>
    /// <param name="maxPayloadBytes">Largest payload accepted (an <c>ingest</c> image fits in the default 4 MiB).</param>
    /// <param name="time">The clock <c>issuedAt</c> and <c>expiresAt</c> are compared with.</param>
    /// <param name="maxClockSkew">How far in the future <c>issuedAt</c> may be (the sender's clock ahead of ours); further is <see cref="CommandStatus.NotYetValid"/>.</param>
    /// <param name="maxCommandAge">How old <c>issuedAt</c> may be; older is <see cref="CommandStatus.Expired"/>. Keep it within the inbox's retention, so no replay outlives its record.</param>
    public CommandDecoder(DeviceTopics topics, int maxPayloadBytes = 4 << 20, TimeProvider? time = null, TimeSpan? maxClockSkew = null, TimeSpan? maxCommandAge = null)
    {
        ArgumentNullException.ThrowIfNull(topics);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPayloadBytes, 64);
        _topics = topics;
        MaxPayloadBytes = maxPayloadBytes;
        _time = time ?? TimeProvider.System;
        MaxClockSkew = maxClockSkew ?? TimeSpan.FromMinutes(5);
        MaxCommandAge = maxCommandAge ?? TimeSpan.FromDays(1);
    }

    /// <summary>Largest payload accepted.</summary>
    public int MaxPayloadBytes { get; }

    /// <summary>How far ahead of this device's clock <c>issuedAt</c> may be.</summary>
    public TimeSpan MaxClockSkew { get; }

    /// <summary>How old <c>issuedAt</c> may be.</summary>
    public TimeSpan MaxCommandAge { get; }

    /// <summary>Decodes the message on <paramref name="topic"/> with <paramref name="payload"/>.</summary>
    public CommandDecodeResult Decode(string topic, ReadOnlySpan<byte> payload)
    {
        var now = _time.GetUtcNow();
        if (!_topics.TryParseCommand(topic, out string device, out string topicName))
            return Fail(InvalidId, "", CommandStatus.Malformed, $"'{topic}' is not a command topic of fleet '{_topics.Fleet}'.", now);
        string peekedId = PeekId(payload) ?? InvalidId;
        if (device != _topics.Device)
            return Fail(InvalidId, topicName, CommandStatus.WrongDevice, $"The command was sent to device '{device}'; this is '{_topics.Device}'.", now);
        if (payload.Length > MaxPayloadBytes)
            return Fail(peekedId, topicName, CommandStatus.TooLarge, $"The payload has {payload.Length} bytes; the limit is {MaxPayloadBytes}.", now);

        // JSON strings must be UTF-8; the parser accepts bad bytes inside strings and only fails when they are read.
        if (!System.Text.Unicode.Utf8.IsValid(payload))
            return Fail(peekedId, topicName, CommandStatus.Malformed, "The payload is not valid UTF-8.", now);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload.ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            return Fail(peekedId, topicName, CommandStatus.Malformed, $"The payload is not valid JSON: {e.Message}", now);
        }
        using (document)
            return Decode(document.RootElement, topicName, now);
    }

    private CommandDecodeResult Decode(JsonElement root, string topicName, DateTimeOffset now)
    {
        if (root.ValueKind != JsonValueKind.Object)
            return Fail(InvalidId, topicName, CommandStatus.Malformed, "The payload must be a JSON object {id, name, issuedAt, expiresAt, args}.", now);
        string? id = String(root, "id");
        if (id is null || !CommandEnvelope.IsValidId(id))
            return Fail(InvalidId, topicName, CommandStatus.Malformed, "'id' must be a string of 1–128 characters from A–Z a–z 0–9 . _ : -.", now);
        string? name = String(root, "name");
        if (name is null)
            return Fail(id, topicName, CommandStatus.Malformed, "'name' is missing or not a string.", now);
        if (name != topicName)
            return Fail(id, name, CommandStatus.Malformed, $"'name' is '{name}' but the topic says '{topicName}'.", now);
        if (!CommandNames.All.Contains(name))
            return Fail(id, name, CommandStatus.UnknownCommand, $"Unknown command '{name}'. Known: {string.Join(", ", CommandNames.All.Order(StringComparer.Ordinal))}.", now);
        if (!TryTime(root, "issuedAt", out var issuedAt) || issuedAt is null)
            return Fail(id, name, CommandStatus.Malformed, "'issuedAt' must be an ISO 8601 time with an offset, for example 2026-12-06T10:00:00Z.", now);
        if (!TryTime(root, "expiresAt", out var expiresAt))
            return Fail(id, name, CommandStatus.Malformed, "'expiresAt' must be an ISO 8601 time or absent.", now);
        if (issuedAt.Value > now + MaxClockSkew)
            return Fail(id, name, CommandStatus.NotYetValid, $"'issuedAt' {issuedAt.Value:O} is {(issuedAt.Value - now).TotalSeconds:F0} s ahead of this device's clock ({now:O}); at most {MaxClockSkew.TotalSeconds:F0} s is allowed. Check the sender's clock.", now);
        if (issuedAt.Value < now - MaxCommandAge)
            return Fail(id, name, CommandStatus.Expired, $"The command was issued at {issuedAt.Value:O}, more than {MaxCommandAge.TotalHours:0.##} h ago.", now);
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
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name is not ("id" or "name" or "issuedAt" or "expiresAt" or "args"))
                return Fail(id, name, CommandStatus.Malformed, $"'{property.Name}' is not an envelope field (id, name, issuedAt, expiresAt, args); arguments go inside 'args'.", now);
        }
        return new CommandDecodeResult(new CommandEnvelope(id, name, issuedAt.Value, expiresAt, args), null);
    }

    /// <summary>An id can name a result topic: 1–128 characters of A–Z a–z 0–9 . _ : -.</summary>
    public static bool IsUsableId(string id) => CommandEnvelope.IsValidId(id);

    /// <summary>
    /// The top-level <c>id</c> of a payload read as far as it parses (oversize, bad UTF-8 later on,
    /// a broken tail): the refusal can then go to the sender's own result topic.
    /// </summary>
    private static string? PeekId(ReadOnlySpan<byte> payload)
    {
        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 32 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return null;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0)
                    return null;
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
                    continue;
                if (!reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    reader.TrySkip();
                    continue;
                }
                if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                    return null;
                string id = reader.GetString()!;
                return CommandEnvelope.IsValidId(id) ? id : null;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
        }
        return null;
    }

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
        // ISO 8601 with an offset only: a time without one would be read in this device's own zone.
        if (value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var parsed) && HasOffset(value.GetString()!))
        {
            time = parsed;
            return true;
        }
        return false;
    }

    private static bool HasOffset(string text) =>
        text.EndsWith('Z') || text.EndsWith('z') || (text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':');

    private static CommandDecodeResult Fail(string id, string name, CommandStatus status, string message, DateTimeOffset now) =>
        new(null, new CommandResult(id, name, status, message, now));
}
