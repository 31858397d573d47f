using System.Text;
using System.Text.Json;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;

namespace EdgeTL.Protocol.Tests;

public sealed class PayloadReaderTests
{
    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    [Fact]
    public void Read_absent_arguments_gives_the_documented_defaults()
    {
        var args = PayloadReader.Read(null, ProtocolJson.Default.FinetuneArgs, "args");
        Assert.Equal(("head-only", 30, 1e-3, "cosine", 0), (args.Mode, args.Epochs, args.LearningRate, args.Schedule, args.Seed));
    }

    [Fact]
    public void Read_valid_arguments_keeps_every_field()
    {
        var args = PayloadReader.Read(Json("""{"mode":"progressive","epochs":7,"lr":0.01,"schedule":"step","seed":3}"""), ProtocolJson.Default.FinetuneArgs, "args");
        Assert.Equal(("progressive", 7, 0.01, "step", 3), (args.Mode, args.Epochs, args.LearningRate, args.Schedule, args.Seed));
    }

    [Theory]
    [InlineData("""{"epochs":0}""", "args.epochs must be between 1 and 1000.")]
    [InlineData("""{"epochs":"ten"}""", "args.epochs: has the wrong type (expected an integer)")]
    [InlineData("""{"mode":"all"}""", "args.mode must be one of 'head-only', 'progressive', 'surgical'.")]
    [InlineData("""{"epoch":5}""", "args.epoch is not a field here (known: mode, epochs, lr, schedule, seed).")]
    [InlineData("""{"lr":2}""", "args.lr must be between 1E-09 and 1.")]
    public void Read_bad_finetune_arguments_names_the_field_and_the_rule(string json, string expected)
    {
        var e = Assert.Throws<ProtocolException>(() => PayloadReader.Read(Json(json), ProtocolJson.Default.FinetuneArgs, "args"));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void Read_a_missing_required_field_says_it_is_required()
    {
        var e = Assert.Throws<ProtocolException>(() => PayloadReader.Read(Json("{}"), ProtocolJson.Default.DeployArgs, "args"));
        Assert.Equal("args.url is required.", e.Message);
        var label = Assert.Throws<ProtocolException>(() => PayloadReader.Read(Json("""{"sampleId":3}"""), ProtocolJson.Default.LabelArgs, "args"));
        Assert.Equal("args.label is required.", label.Message);
        // No args at all (absent or null) is the same as {}: the required fields are named, not an internal error.
        var absent = Assert.Throws<ProtocolException>(() => PayloadReader.Read(null, ProtocolJson.Default.IngestArgs, "args"));
        Assert.Equal("args.image is required.", absent.Message);
        var nullArgs = Assert.Throws<ProtocolException>(() => PayloadReader.Read(Json("null"), ProtocolJson.Default.CancelArgs, "args"));
        Assert.Equal("args.id is required.", nullArgs.Message);
    }

    [Fact]
    public void Read_nested_settings_are_checked_with_their_path()
    {
        var e = Assert.Throws<ProtocolException>(() => PayloadReader.Read(Json("""{"drift":{"windowSize":3}}"""), ProtocolJson.Default.SetConfigArgs, "args"));
        Assert.Equal("args.drift.windowSize must be between 10 and 100000.", e.Message);
    }

    [Fact]
    public void Read_an_image_that_is_not_base64_is_refused()
    {
        var e = Assert.Throws<ProtocolException>(() => PayloadReader.Read(Json("""{"image":"not base64!"}"""), ProtocolJson.Default.PredictArgs, "args"));
        Assert.StartsWith("args.image", e.Message, StringComparison.Ordinal);
        var ok = PayloadReader.Read(Json($$"""{"image":"{{Convert.ToBase64String(Encoding.ASCII.GetBytes("png"))}}"}"""), ProtocolJson.Default.PredictArgs, "args");
        Assert.Equal("png"u8.ToArray(), ok.Image);
    }

    [Fact]
    public void Results_round_trip_with_camel_case_status_codes()
    {
        var result = new CommandResult("c-1", "finetune", CommandStatus.InvalidArguments, "args.epochs must be between 1 and 1000.", DateTimeOffset.UnixEpoch);
        string json = JsonSerializer.Serialize(result, ProtocolJson.Default.CommandResult);
        Assert.Contains("\"status\":\"invalidArguments\"", json, StringComparison.Ordinal);
        Assert.Equal(result, JsonSerializer.Deserialize(json, ProtocolJson.Default.CommandResult));
    }
}
