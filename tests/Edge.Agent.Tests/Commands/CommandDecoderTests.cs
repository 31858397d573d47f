using System.Text;
using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Messaging;

namespace EdgeTL.Agent.Tests.Commands;

public sealed class CommandDecoderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private readonly DeviceTopics _topics = new("plant-a", "jetson-07");
    private readonly CommandDecoder _decoder;

    public CommandDecoderTests() => _decoder = new CommandDecoder(_topics, maxPayloadBytes: 1024, new FixedTime(Now));

    [Fact]
    public void A_valid_command_decodes_with_its_arguments()
    {
        var result = Decode("finetune", """{"id":"c-1","name":"finetune","issuedAt":"2026-11-29T11:59:00Z","expiresAt":"2026-11-29T12:10:00Z","args":{"mode":"head-only","epochs":5}}""");
        Assert.True(result.IsValid);
        Assert.Equal("c-1", result.Command!.Id);
        Assert.Equal(5, result.Command.Args!.Value.GetProperty("epochs").GetInt32());
        Assert.Equal(Now.AddMinutes(10), result.Command.ExpiresAt);
    }

    [Theory]
    [InlineData("status", "{not json", CommandStatus.Malformed, "_invalid")]
    [InlineData("status", "[1,2]", CommandStatus.Malformed, "_invalid")]
    [InlineData("status", """{"name":"status","issuedAt":"2026-11-29T11:59:00Z"}""", CommandStatus.Malformed, "_invalid")]
    [InlineData("status", """{"id":"a/b","name":"status","issuedAt":"2026-11-29T11:59:00Z"}""", CommandStatus.Malformed, "_invalid")]
    [InlineData("status", """{"id":"c-2","name":"deploy","issuedAt":"2026-11-29T11:59:00Z"}""", CommandStatus.Malformed, "c-2")]
    [InlineData("status", """{"id":"c-3","name":"status"}""", CommandStatus.Malformed, "c-3")]
    [InlineData("status", """{"id":"c-4","name":"status","issuedAt":"yesterday"}""", CommandStatus.Malformed, "c-4")]
    [InlineData("status", """{"id":"c-5","name":"status","issuedAt":"2026-11-29T11:59:00Z","args":[1]}""", CommandStatus.Malformed, "c-5")]
    [InlineData("status", """{"id":"c-11","name":"stat\ud800","issuedAt":"2026-11-29T11:59:00Z"}""", CommandStatus.Malformed, "c-11")]
    [InlineData("reboot", """{"id":"c-6","name":"reboot","issuedAt":"2026-11-29T11:59:00Z"}""", CommandStatus.UnknownCommand, "c-6")]
    [InlineData("status", """{"id":"c-7","name":"status","issuedAt":"2026-11-29T11:00:00Z","expiresAt":"2026-11-29T11:30:00Z"}""", CommandStatus.Expired, "c-7")]
    public void Bad_commands_get_the_right_error_result(string topicName, string json, CommandStatus expected, string expectedId)
    {
        var result = Decode(topicName, json);
        Assert.False(result.IsValid);
        Assert.Equal(expected, result.Error!.Status);
        Assert.Equal(expectedId, result.Error.Id);
        Assert.False(string.IsNullOrWhiteSpace(result.Error.Message));
        _ = _topics.Result(result.Error.Id);   // every error result has a publishable topic
    }

    [Fact]
    public void Oversize_and_wrong_device_commands_are_refused()
    {
        var big = """{"id":"c-8","name":"ingest","issuedAt":"2026-11-29T11:59:00Z","args":{"image":"%"}}""".Replace("%", new string('A', 2000), StringComparison.Ordinal);
        Assert.Equal(CommandStatus.TooLarge, Decode("ingest", big).Error!.Status);
        var other = _decoder.Decode("edgetl/plant-a/jetson-08/cmd/status", Encoding.UTF8.GetBytes("""{"id":"c-9","name":"status","issuedAt":"2026-11-29T11:59:00Z"}"""));
        Assert.Equal(CommandStatus.WrongDevice, other.Error!.Status);
        var otherFleet = _decoder.Decode("edgetl/plant-b/jetson-07/cmd/status", Encoding.UTF8.GetBytes("{}"));
        Assert.Equal(CommandStatus.Malformed, otherFleet.Error!.Status);
    }

    [Fact]
    public void Ten_thousand_mutated_payloads_never_throw_and_always_get_a_status()
    {
        var random = new Random(42);
        var valid = Encoding.UTF8.GetBytes("""{"id":"c-10","name":"predict","issuedAt":"2026-11-29T11:59:00Z","expiresAt":"2026-11-29T12:10:00Z","args":{"image":"AAAA","top":3}}""");
        string[] topics = [_topics.Command("predict"), _topics.Command("status"), _topics.Command("nope"), "edgetl/plant-a/x/cmd/predict", "edgetl/plant-a/jetson-07/cmd", "garbage", ""];
        var seen = new HashSet<CommandStatus>();
        for (int i = 0; i < 10_000; i++)
        {
            var payload = valid.ToArray();
            int mutations = random.Next(1, 8);
            for (int m = 0; m < mutations; m++)
            {
                switch (random.Next(4))
                {
                    case 0: payload[random.Next(payload.Length)] = (byte)random.Next(256); break;
                    case 1: payload = payload[..random.Next(payload.Length)]; break;
                    case 2: payload = [.. payload, .. Enumerable.Range(0, random.Next(1, 600)).Select(_ => (byte)random.Next(256))]; break;
                    default: payload = [.. payload.Take(random.Next(payload.Length)), .. "\"}{[]:,\\"u8.ToArray()[random.Next(8)..]]; break;
                }
                if (payload.Length == 0)
                    payload = [(byte)'{'];
            }
            var result = _decoder.Decode(topics[random.Next(topics.Length)], payload);
            Assert.True(result.IsValid ^ (result.Error is not null));
            if (result.Error is { } error)
            {
                Assert.True(CommandDecoder.IsUsableId(error.Id) || error.Id == CommandDecoder.InvalidId);
                seen.Add(error.Status);
            }
        }
        Assert.Contains(CommandStatus.Malformed, seen);
        Assert.Contains(CommandStatus.TooLarge, seen);
        Assert.Contains(CommandStatus.WrongDevice, seen);
    }

    /// <summary>Issue 16, defect 7: a command issued a day in the future was run.</summary>
    [Fact]
    public void An_issuedAt_a_day_in_the_future_was_accepted()
    {
        var ahead = Decode("status", """{"id":"skew-1","name":"status","issuedAt":"2026-11-30T12:00:00Z"}""");
        Assert.Equal(CommandStatus.NotYetValid, ahead.Error!.Status);
        Assert.Equal("skew-1", ahead.Error.Id);
        Assert.Contains("ahead of this device's clock", ahead.Error.Message, StringComparison.Ordinal);
        // Within the allowed skew (5 min by default) it runs; older than the command age (1 day) it has expired.
        Assert.True(Decode("status", """{"id":"skew-2","name":"status","issuedAt":"2026-11-29T12:04:00Z"}""").IsValid);
        Assert.Equal(CommandStatus.Expired, Decode("status", """{"id":"old-1","name":"status","issuedAt":"2026-11-28T11:59:00Z"}""").Error!.Status);
        var strict = new CommandDecoder(_topics, 1024, new FixedTime(Now), maxClockSkew: TimeSpan.FromSeconds(30));
        Assert.Equal(CommandStatus.NotYetValid, strict.Decode(_topics.Command("status"), """{"id":"skew-3","name":"status","issuedAt":"2026-11-29T12:01:00Z"}"""u8).Error!.Status);
    }

    /// <summary>Issue 16, defect 5: a refused payload was answered on <c>result/_invalid</c> although its id could be read.</summary>
    [Fact]
    public void Bad_payloads_were_answered_on_result_invalid_even_when_the_id_was_readable()
    {
        var big = """{"id":"big-1","name":"ingest","issuedAt":"2026-11-29T11:59:00Z","args":{"image":"%"}}""".Replace("%", new string('A', 2000), StringComparison.Ordinal);
        Assert.Equal(("big-1", CommandStatus.TooLarge), (Decode("ingest", big).Error!.Id, Decode("ingest", big).Error!.Status));
        var broken = Decode("status", """{"id":"tail-1","name":"status","issuedAt":"2026-11-29T11:59:00Z",""");
        Assert.Equal(("tail-1", CommandStatus.Malformed), (broken.Error!.Id, broken.Error.Status));
        byte[] badUtf8 = [.. Encoding.UTF8.GetBytes("{\"id\":\"utf-1\",\"name\":\"status\",\"issuedAt\":\"2026-11-29T11:59:00Z\",\"args\":{\"x\":\""), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\"}}")];
        Assert.Equal("utf-1", _decoder.Decode(_topics.Command("status"), badUtf8).Error!.Id);
        // Nothing readable: _invalid, as before.
        Assert.Equal(CommandDecoder.InvalidId, Decode("status", "{not json").Error!.Id);
        Assert.Equal(CommandDecoder.InvalidId, Decode("status", """{"id":"a/b","name":"status"}""").Error!.Id);
    }

    [Fact]
    public void Fields_outside_the_envelope_are_refused_so_a_misspelt_field_is_not_ignored()
    {
        var result = Decode("status", """{"id":"env-1","name":"status","issuedAt":"2026-11-29T11:59:00Z","expiresat":"2026-11-29T11:00:00Z"}""");
        Assert.Equal(CommandStatus.Malformed, result.Error!.Status);
        Assert.Contains("'expiresat' is not an envelope field", result.Error.Message, StringComparison.Ordinal);
    }

    private CommandDecodeResult Decode(string name, string json) => _decoder.Decode(_topics.Command(name), Encoding.UTF8.GetBytes(json));

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
