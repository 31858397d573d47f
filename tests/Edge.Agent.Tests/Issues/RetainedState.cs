using System.Diagnostics;
using System.Text.Json.Nodes;

namespace EdgeTL.Agent.Tests.Issues;

/// <summary>Reads a device's retained <c>state</c> as an operator would: with <c>mosquitto_sub</c>, a separate process and client.</summary>
internal static class RetainedState
{
    /// <summary>The retained state of <paramref name="device"/> on the broker at <paramref name="port"/>, or null when there is none.</summary>
    public static async Task<JsonObject?> ReadAsync(int port, string fleet, string device)
    {
        var info = new ProcessStartInfo("mosquitto_sub", ["-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-t", $"edgetl/{fleet}/{device}/state", "-C", "1", "-W", "3", "-V", "mqttv5"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("mosquitto_sub could not start: apt-get install mosquitto-clients (scripts/test.sh does).");
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return string.IsNullOrWhiteSpace(output) ? null : JsonNode.Parse(output.Trim())!.AsObject();
    }

    /// <summary>Waits until the retained state agrees with <paramref name="status"/> (the <c>status</c> command's data); returns it, or throws showing both.</summary>
    public static async Task<JsonObject> AgreesWithAsync(int port, string fleet, string device, JsonObject status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject? state = null;
        while (DateTime.UtcNow < deadline)
        {
            state = await ReadAsync(port, fleet, device);
            if (state is not null && Disagreement(state, status) is null)
                return state;
            await Task.Delay(200);
        }
        throw new Xunit.Sdk.XunitException($"The retained state never agreed with status: {(state is null ? "no state" : Disagreement(state, status))}\nstate:  {state?.ToJsonString()}\nstatus: {status.ToJsonString()}");
    }

    private static string? Disagreement(JsonObject state, JsonObject status)
    {
        (string, string?, string?)[] fields =
        [
            ("model.counter", Text(state["model"]?["counter"]), Text(status["model"]?["counter"])),
            ("model.version", Text(state["model"]?["version"]), Text(status["model"]?["version"])),
            ("head.id", Text(state["head"]?["id"]), Text(status["head"]?["id"])),
            ("head.kind", Text(state["head"]?["kind"]), Text(status["head"]?["kind"])),
            ("training", Text(state["training"]), Text(status["training"])),
            ("lastDeployment.command", Text(state["lastDeployment"]?["command"]), Text(status["lastDeployment"]?["command"])),
            ("lastDeployment.status", Text(state["lastDeployment"]?["status"]), Text(status["lastDeployment"]?["status"])),
        ];
        var different = fields.Where(f => f.Item2 != f.Item3).Select(f => $"{f.Item1}: state {f.Item2 ?? "null"}, status {f.Item3 ?? "null"}").ToList();
        return different.Count == 0 ? null : string.Join("; ", different);
    }

    private static string? Text(JsonNode? node) => node?.ToJsonString();
}
