using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Control;

namespace EdgeTL.Agent.Hosting;

/// <summary>
/// <c>edgetl-agent send NAME [--args JSON|@file] [--id ID] [--expires SECONDS]</c>: any command to
/// any device, as an operator would send it by hand. The envelope is the protocol's
/// <see cref="CommandEnvelope"/>; the result topic is subscribed before the command goes out; each
/// result is printed as it arrives (<c>accepted</c>, then the final one for a job) and the exit code
/// says the final status (<see cref="SendExitCodes"/>).
/// </summary>
internal static class SendCommand
{
    public static Command Create()
    {
        var (broker, fleet, device) = DeviceCommands.RemoteOptions();
        var name = new Argument<string>("NAME") { Description = $"The command: {string.Join(", ", CommandNames.All.Order(StringComparer.Ordinal))}." };
        var args = new Option<string?>("--args") { Description = "The command's arguments: a JSON object, or @FILE to read it from a file (see docs/protocol.md).", HelpName = "JSON|@FILE" };
        var id = new Option<string?>("--id") { Description = $"The command id (1–{CommandEnvelope.MaxIdLength} characters of A–Z a–z 0–9 . _ : -); a new one by default. Reusing an id gets 'duplicate'.", HelpName = "ID" };
        var expires = new Option<int?>("--expires") { Description = "Let the device refuse the command (expired) when it reaches it later than this many seconds from now.", HelpName = "SECONDS" };
        var timeout = new Option<double>("--timeout") { Description = "How long to wait for the final result.", HelpName = "SECONDS", DefaultValueFactory = _ => 60 };
        var json = new Option<bool>("--json") { Description = "Print each result payload as one JSON line, as received, instead of a summary." };
        var command = new Command("send", "Send a command to a running agent over MQTT and print its results as they arrive. " + SendExitCodes.Table)
        {
            name, args, id, expires, timeout, json, broker, fleet, device,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            string commandName = parse.GetValue(name)!;
            if (!CommandNames.All.Contains(commandName))
                return await Refuse(error, $"'{commandName}' is not a command. Known: {string.Join(", ", CommandNames.All.Order(StringComparer.Ordinal))}.").ConfigureAwait(false);
            string commandId = parse.GetValue(id) ?? RemoteCall.NewId(commandName);
            if (!CommandEnvelope.IsValidId(commandId))
                return await Refuse(error, $"--id '{commandId}' is not a command id: 1–{CommandEnvelope.MaxIdLength} characters of A–Z a–z 0–9 . _ : - (and not '{CommandEnvelope.InvalidId}').").ConfigureAwait(false);
            double seconds = parse.GetValue(timeout);
            if (!(seconds > 0) || double.IsInfinity(seconds))
                return await Refuse(error, $"--timeout must be a positive number of seconds, not {seconds.ToString(CultureInfo.InvariantCulture)}.").ConfigureAwait(false);
            if (parse.GetValue(expires) is <= 0)
                return await Refuse(error, "--expires must be a positive number of seconds.").ConfigureAwait(false);
            JsonElement? arguments;
            try
            {
                arguments = await ReadArgumentsAsync(parse.GetValue(args), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or ProtocolException)
            {
                return await Refuse(error, $"--args: {e.Message}").ConfigureAwait(false);
            }
            var now = DateTimeOffset.UtcNow;
            var envelope = new CommandEnvelope(commandId, commandName, now, parse.GetValue(expires) is { } s ? now.AddSeconds(s) : null, arguments);
            bool raw = parse.GetValue(json);
            if (!raw)
                await output.WriteLineAsync($"sent {commandName} {commandId} to {parse.GetValue(fleet)}/{parse.GetValue(device)}").ConfigureAwait(false);
            return await RemoteCall.RunAsync(parse.GetValue(broker)!, parse.GetValue(fleet)!, parse.GetValue(device)!, envelope, TimeSpan.FromSeconds(seconds),
                (result, payload) => output.WriteLineAsync(raw ? Compact(payload) : Summary(result)), error, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>One line for people: <c>failed [FetchFailed]: Failed: the package …</c>.</summary>
    internal static string Summary(CommandResult result)
    {
        string status = JsonNamingPolicy.CamelCase.ConvertName(result.Status.ToString());
        string? code = result.Data is { ValueKind: JsonValueKind.Object } data && data.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        string message = result.Message.ReplaceLineEndings(" ");
        return code is null ? $"{status}: {message}" : $"{status} [{code}]: {message}";
    }

    /// <summary>--args as given, or from @FILE: a JSON object (or null: no arguments).</summary>
    private static async Task<JsonElement?> ReadArgumentsAsync(string? value, CancellationToken cancellationToken)
    {
        if (value is null)
            return null;
        string text = value.StartsWith('@') ? await File.ReadAllTextAsync(value[1..], cancellationToken).ConfigureAwait(false) : value;
        using var document = JsonDocument.Parse(text);
        return document.RootElement.ValueKind switch
        {
            JsonValueKind.Object => document.RootElement.Clone(),
            JsonValueKind.Null => null,
            _ => throw new ProtocolException($"the arguments must be a JSON object such as {{\"epochs\": 5}}, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}."),
        };
    }

    /// <summary>The payload on one line (the agent writes compact JSON; this keeps it so whatever the sender).</summary>
    private static string Compact(string payload)
    {
        if (!payload.Contains('\n', StringComparison.Ordinal))
            return payload;
        return System.Text.Json.Nodes.JsonNode.Parse(payload)?.ToJsonString() ?? "null";
    }

    private static async Task<int> Refuse(TextWriter error, string message)
    {
        await error.WriteLineAsync($"error: {message} Nothing was sent.").ConfigureAwait(false);
        return SendExitCodes.BadArguments;
    }
}
