using System.Buffers;
using System.Collections.Concurrent;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MQTTnet;
using MQTTnet.Protocol;
using Spectre.Console;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Protocol.Topics;

namespace EdgeTL.Cloud;

/// <summary><c>fleet status</c>: every device's retained state as a table (or <c>--json</c>).</summary>
internal static class FleetCommand
{
    public static Command Create()
    {
        var broker = new Option<string>("--broker") { Description = "MQTT broker, host:port.", DefaultValueFactory = _ => "127.0.0.1:1883" };
        var fleet = new Option<string>("--fleet") { Description = "Fleet name.", Required = true };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to collect retained states.", DefaultValueFactory = _ => 3 };
        var json = CommonOptions.Json();
        var status = new Command("status", "Collect every device's retained state and print device, state, model version/counter, head, training and the last deployment.")
        {
            broker, fleet, timeout, json,
        };
        status.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, async ct =>
        {
            var address = BrokerAddress.Parse(parse.GetValue(broker)!);
            string fleetName = FleetTopics.Level(parse.GetValue(fleet)!, "--fleet");
            var devices = await CollectAsync(address, fleetName, TimeSpan.FromSeconds(parse.GetValue(timeout)), ct).ConfigureAwait(false);
            var report = new FleetStatusReport(fleetName, devices);
            bool asJson = parse.GetValue(json);
            var console = new CliConsole(parse, asJson);
            if (asJson)
                console.Out.WriteLine(JsonSerializer.Serialize(report, CliJson.Default.FleetStatusReport));
            else
                Print(report, console);
            return ExitCodes.Ok;
        }, cancellationToken));
        return new Command("fleet", "Look at a fleet of devices.") { status };
    }

    /// <summary>
    /// Subscribes to <c>edgetl/{fleet}/+/state</c> and keeps the retained messages (the broker sends
    /// them at once); stops at <paramref name="timeout"/>, or after half a second without a new one.
    /// </summary>
    internal static async Task<IReadOnlyList<DeviceStatus>> CollectAsync(BrokerAddress address, string fleet, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var states = new ConcurrentDictionary<string, DeviceStatus>(StringComparer.Ordinal);
        long lastTicks = DateTime.UtcNow.Ticks;
        using var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            if (DeviceTopics.TryParseDeviceTopic(e.ApplicationMessage.Topic, fleet, out string device, out string rest) && rest == "state")
            {
                try
                {
                    states[device] = DeviceStatus.From(device, PayloadReader.ReadUtf8(e.ApplicationMessage.Payload.ToArray(), ProtocolJson.Default.DeviceState, "state"));
                }
                catch (ProtocolException)
                {
                    states[device] = new DeviceStatus(device, "unreadable", null, null, null, null, null, null, null, null, null);
                }
                Interlocked.Exchange(ref lastTicks, DateTime.UtcNow.Ticks);
            }
            return Task.CompletedTask;
        };
        await address.ConnectAsync(client, "edgetl-cloud-fleet", cancellationToken).ConfigureAwait(false);
        try
        {
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                .WithTopicFilter(DeviceTopics.StateFilter(fleet), MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                if (!states.IsEmpty && DateTime.UtcNow - new DateTime(Interlocked.Read(ref lastTicks), DateTimeKind.Utc) > TimeSpan.FromMilliseconds(500))
                    break;
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (client.IsConnected)
                await client.DisconnectAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
        return [.. states.Values.OrderBy(s => s.Device, StringComparer.Ordinal)];
    }

    private static void Print(FleetStatusReport report, CliConsole console)
    {
        if (report.Devices.Count == 0)
        {
            console.Out.WriteLine($"No device of fleet '{report.Fleet}' has a retained state.");
            return;
        }
        string Counter(long? c) => c is long v ? v.ToString(CultureInfo.InvariantCulture) : "-";
        string Last(DeviceStatus d) => d.LastDeployment is null ? "-" : d.LastDeployment + (d.LastDeploymentReason is { Length: > 0 } r ? $": {r}" : "");
        if (console.Interactive)
        {
            var table = new Table().AddColumns("device", "state", "model", "version", "counter", "head", "training", "last deployment");
            foreach (var d in report.Devices)
                table.AddRow(Markup.Escape(d.Device), Markup.Escape(d.State), Markup.Escape(d.Model ?? "-"), Markup.Escape(d.Version ?? "-"), Counter(d.Counter),
                    Markup.Escape(d.Head ?? "-"), Markup.Escape(d.Training ?? "-"), Markup.Escape(Last(d)));
            AnsiConsole.Write(table);
            return;
        }
        console.Out.WriteLine($"{"device",-20} {"state",-8} {"model",-20} {"version",-10} {"counter",-8} {"head",-24} {"training",-12} last deployment");
        foreach (var d in report.Devices)
            console.Out.WriteLine($"{d.Device,-20} {d.State,-8} {d.Model ?? "-",-20} {d.Version ?? "-",-10} {Counter(d.Counter),-8} {d.Head ?? "-",-24} {d.Training ?? "-",-12} {Last(d)}");
    }
}
