using System.Text;
using System.Text.Json.Nodes;

namespace EdgeTL.Reliability.Tests.Harness;

/// <summary>
/// Generates hostile command messages for one device, reproducibly from a seed: valid commands
/// mutated at the byte level (flips, cuts, insertions, repeats, truncation) and at the JSON level
/// (wrong types, missing and extra fields, absurd numbers, deep nesting, bad ids and times),
/// oversized payloads, unknown command names, other devices' topics and names that disagree with
/// their topic. Every message lands on a topic the agent subscribes to (<c>edgetl/{fleet}/+/cmd/+</c>).
/// </summary>
public sealed class CommandFuzzer(string fleet, string device, int maxCommandBytes, int seed)
{
    private static readonly string[] Names = ["status", "deploy", "rollback", "ingest", "label", "finetune", "adapt", "evaluate", "predict", "set-config", "cancel"];
    private static readonly byte[] Structural = [.. "{}[]\",:\\0"u8, 0xff, 0x00];
    private readonly Random _random = new(seed);

    /// <summary>What each generated case was, counted (for the test's report).</summary>
    public Dictionary<string, int> Kinds { get; } = [];

    /// <summary>The next hostile message.</summary>
    public (string Topic, byte[] Payload) Next()
    {
        int roll = _random.Next(100);
        string name = Names[_random.Next(Names.Length)];
        string topic = $"edgetl/{fleet}/{device}/cmd/{name}";
        (string Kind, string Topic, byte[] Payload) made = roll switch
        {
            < 40 => ("byte-mutation", topic, MutateBytes(Encoding.UTF8.GetBytes(Valid(name).ToJsonString()))),
            < 70 => ("json-mutation", topic, Encoding.UTF8.GetBytes(MutateJson(Valid(name)).ToJsonString())),
            < 76 => ("oversized", topic, Oversized(name)),
            < 84 => UnknownName(),
            < 90 => ("other-device", $"edgetl/{fleet}/{Word(1, 12)}/cmd/{name}", Encoding.UTF8.GetBytes(Valid(name).ToJsonString())),
            < 95 => ("name-mismatch", $"edgetl/{fleet}/{device}/cmd/{Names[_random.Next(Names.Length)]}x", Encoding.UTF8.GetBytes(Valid(name).ToJsonString())),
            _ => ("random-bytes", topic, RandomBytes(_random.Next(0, 512))),
        };
        Kinds[made.Kind] = Kinds.GetValueOrDefault(made.Kind) + 1;
        return (made.Topic, made.Payload);
    }

    /// <summary>A well-formed command (harmless arguments: no deploy leaves this machine).</summary>
    private JsonObject Valid(string name)
    {
        var args = name switch
        {
            "deploy" => new JsonObject { ["url"] = $"file:///nonexistent/{Word(1, 8)}.tar" },
            "ingest" or "predict" => new JsonObject { ["image"] = Convert.ToBase64String(RandomBytes(_random.Next(1, 64))), ["label"] = "Coat" },
            "label" => new JsonObject { ["sampleId"] = _random.Next(-5, 50), ["label"] = "Coat" },
            "finetune" or "adapt" => new JsonObject { ["epochs"] = _random.Next(-1, 3), ["mode"] = "head" },
            "set-config" => new JsonObject { ["coldStartShots"] = _random.Next(-3, 20) },
            "cancel" => new JsonObject { ["id"] = Word(1, 10) },
            _ => new JsonObject(),
        };
        return new JsonObject
        {
            ["id"] = $"fz{_random.Next():x}",
            ["name"] = name,
            ["issuedAt"] = DateTimeOffset.UtcNow.ToString("O"),
            ["expiresAt"] = DateTimeOffset.UtcNow.AddMinutes(_random.Next(-2, 60)).ToString("O"),
            ["args"] = args,
        };
    }

    private byte[] MutateBytes(byte[] bytes)
    {
        var data = new List<byte>(bytes);
        for (int m = _random.Next(1, 4); m > 0 && data.Count > 0; m--)
        {
            int at = _random.Next(data.Count);
            switch (_random.Next(6))
            {
                case 0: data[at] ^= (byte)(1 << _random.Next(8)); break;
                case 1: data.RemoveRange(at, Math.Min(_random.Next(1, 16), data.Count - at)); break;
                case 2: data.InsertRange(at, RandomBytes(_random.Next(1, 16))); break;
                case 3: data.InsertRange(at, data.GetRange(at, Math.Min(_random.Next(1, 32), data.Count - at))); break;
                case 4: data.RemoveRange(at, data.Count - at); break;
                default: data[at] = Structural[_random.Next(Structural.Length)]; break;
            }
        }
        return [.. data];
    }

    private JsonObject MutateJson(JsonObject command)
    {
        string[] fields = ["id", "name", "issuedAt", "expiresAt", "args"];
        for (int m = _random.Next(1, 3); m > 0; m--)
        {
            string field = fields[_random.Next(fields.Length)];
            switch (_random.Next(5))
            {
                case 0: command.Remove(field); break;
                case 1: command[field] = Hostile(); break;
                case 2 when command["args"] is JsonObject args: args[Word(1, 12)] = Hostile(); break;
                case 3 when command["args"] is JsonObject args && args.Count > 0: args[args.ElementAt(_random.Next(args.Count)).Key] = Hostile(); break;
                default: command[Word(1, 8)] = Hostile(); break;
            }
        }
        return command;
    }

    private JsonNode? Hostile() => _random.Next(12) switch
    {
        0 => null,
        1 => JsonValue.Create(double.MaxValue),
        2 => JsonValue.Create(-1),
        3 => JsonValue.Create(long.MinValue),
        4 => JsonValue.Create(""),
        5 => JsonValue.Create(new string('x', _random.Next(129, 2000))),
        6 => JsonValue.Create("../../etc/passwd"),
        7 => JsonValue.Create("NaN"),
        8 => Nested(_random.Next(1, 200)),
        9 => new JsonArray(JsonValue.Create(1), JsonValue.Create("two"), null),
        10 => JsonValue.Create(Word(1, 40) + "\u0000\ud7ff\u202e"),
        _ => JsonValue.Create(true),
    };

    private static JsonNode Nested(int depth)
    {
        JsonNode node = new JsonArray();
        for (int i = 0; i < Math.Min(depth, 60); i++)
            node = new JsonObject { ["n"] = node };
        return node;
    }

    private byte[] Oversized(string name)
    {
        var command = Valid(name);
        command["args"]!.AsObject()["padding"] = new string('A', maxCommandBytes + _random.Next(1, 4096));
        return Encoding.UTF8.GetBytes(command.ToJsonString());
    }

    private (string, string, byte[]) UnknownName()
    {
        string unknown = Word(1, 20);
        var command = Valid("status");
        command["name"] = unknown;
        return ("unknown-command", $"edgetl/{fleet}/{device}/cmd/{unknown}", Encoding.UTF8.GetBytes(command.ToJsonString()));
    }

    private string Word(int min, int max)
    {
        const string letters = "abcdefghijklmnopqrstuvwxyz0123456789-_.:é漢";
        var chars = new char[_random.Next(min, max + 1)];
        for (int i = 0; i < chars.Length; i++)
            chars[i] = letters[_random.Next(letters.Length)];
        return new string(chars);
    }

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        _random.NextBytes(bytes);
        return bytes;
    }
}
