using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeTL.Runtime.Packaging;
using MQTTnet;
using MQTTnet.Protocol;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Protocol.Topics;

namespace EdgeTL.Cloud;

/// <summary>
/// <c>publish</c>: set a device group's retained desired state to a package (QoS 1), and optionally
/// wait until listed devices report what they did with it. Exit 0 only when every listed device
/// promoted it; <see cref="ExitCodes.DeploymentFailed"/> when any refused, failed or rolled back;
/// <see cref="ExitCodes.DeploymentTimedOut"/> when some stayed silent.
/// </summary>
internal static class PublishCommand
{
    public static Command Create()
    {
        var broker = new Option<string>("--broker") { Description = "MQTT broker, host:port.", DefaultValueFactory = _ => "127.0.0.1:1883" };
        var fleet = new Option<string>("--fleet") { Description = "Fleet name.", Required = true };
        var group = new Option<string>("--group") { Description = "Device group.", DefaultValueFactory = _ => "all" };
        var url = new Option<string>("--url") { Description = "Where devices fetch the package (file://, http://, https://).", Required = true };
        var package = new Option<string>("--package") { Description = "The package (its manifest gives the version and counter; its files are checked against it).", Required = true };
        var waitDevices = new Option<string[]>("--wait-devices") { Description = "Devices to wait for (space or comma separated).", AllowMultipleArgumentsPerToken = true };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the devices.", DefaultValueFactory = _ => 120 };
        var json = CommonOptions.Json();
        var command = new Command("publish", "Publish a package as a device group's retained desired state; with --wait-devices, wait for each device's outcome (exit 0 only if all promoted).")
        {
            broker, fleet, group, url, package, waitDevices, timeout, json,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, async ct =>
        {
            var address = BrokerAddress.Parse(parse.GetValue(broker)!);
            string fleetName = FleetTopics.Level(parse.GetValue(fleet)!, "--fleet");
            string topic = DeviceTopics.GroupDeploy(fleetName, FleetTopics.Level(parse.GetValue(group)!, "--group"));
            string source = parse.GetValue(url)!;
            if (!Uri.TryCreate(source, UriKind.Absolute, out var uri) || uri.Scheme is not ("file" or "http" or "https"))
                throw CloudCliException.InvalidArguments($"--url '{source}' must be an absolute file://, http:// or https:// URL.");
            ModelManifest manifest;
            using (var contents = PackageContents.Read(parse.GetValue(package)!))
                manifest = contents.Manifest;
            var desired = new DesiredState(uri.AbsoluteUri, manifest.Counter, manifest.Version, manifest.Name);
            string[] devices = [.. (parse.GetValue(waitDevices) ?? []).SelectMany(d => d.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.Ordinal)];
            bool asJson = parse.GetValue(json);
            var console = new CliConsole(parse, asJson);

            using var client = new MqttClientFactory().CreateMqttClient();
            var watch = new DeploymentWatch(fleetName, desired.Counter, devices);
            var completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            client.ApplicationMessageReceivedAsync += e =>
            {
                watch.Observe(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray());
                if (watch.Complete)
                    completed.TrySetResult();
                return Task.CompletedTask;
            };
            await address.ConnectAsync(client, "edgetl-cloud-publish", ct).ConfigureAwait(false);
            try
            {
                if (devices.Length > 0)
                {
                    // Subscribe before publishing, so no outcome can slip past.
                    await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                        .WithTopicFilter(DeviceTopics.MetricsFilter(fleetName, MetricKinds.Deployment), MqttQualityOfServiceLevel.AtLeastOnce)
                        .WithTopicFilter(DeviceTopics.StateFilter(fleetName), MqttQualityOfServiceLevel.AtLeastOnce)
                        .Build(), ct).ConfigureAwait(false);
                }
                byte[] payload = JsonSerializer.SerializeToUtf8Bytes(desired, ProtocolJson.Default.DesiredState);
                var result = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithRetainFlag()
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithContentType("application/json").Build(), ct).ConfigureAwait(false);
                if (!result.IsSuccess && result.ReasonCode != MqttClientPublishReasonCode.NoMatchingSubscribers)
                    throw CloudCliException.BrokerUnavailable($"The broker refused the desired state: {result.ReasonCode} {result.ReasonString}");
                console.Line(string.Create(CultureInfo.InvariantCulture, $"Published {desired.Name} {desired.Version} (counter {desired.Counter}) to {topic} (retained)."));

                if (devices.Length > 0)
                {
                    var wait = TimeSpan.FromSeconds(parse.GetValue(timeout));
                    await console.ProgressAsync($"Waiting for {devices.Length} device(s)", devices.Length, async report =>
                    {
                        watch.Decided += o => report(watch.Outcomes.Count, $"{o.Device}: {o.Status}{(o.Reason is null ? "" : $" ({o.Reason})")}");
                        foreach (var o in watch.Outcomes.Values)
                            report(watch.Outcomes.Count, $"{o.Device}: {o.Status}");
                        if (watch.Complete)
                            completed.TrySetResult();
                        try
                        {
                            await completed.Task.WaitAsync(wait, ct).ConfigureAwait(false);
                        }
                        catch (TimeoutException)
                        {
                            report(watch.Outcomes.Count, "timed out");
                        }
                        return true;
                    }).ConfigureAwait(false);
                }
            }
            finally
            {
                if (client.IsConnected)
                    await client.DisconnectAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }

            var outcomes = devices.Select(d => watch.Outcomes.TryGetValue(d, out var o) ? o : new DeviceOutcome(d, "Pending", "no report before the timeout", null, null)).ToList();
            bool allPromoted = outcomes.All(o => o.Status == "Promoted");
            var report = new PublishReport(topic, desired, outcomes, allPromoted);
            if (asJson)
            {
                console.Out.WriteLine(JsonSerializer.Serialize(report, CliJson.Default.PublishReport));
            }
            else
            {
                foreach (var o in outcomes)
                    console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {o.Device,-20} {o.Status,-10} {o.Version ?? "-",-10} {(o.Counter is long c ? c.ToString(CultureInfo.InvariantCulture) : "-"),-8} {o.Reason}"));
            }
            if (allPromoted)
                return ExitCodes.Ok;
            return outcomes.Any(o => o.Status != "Pending") ? ExitCodes.DeploymentFailed : ExitCodes.DeploymentTimedOut;
        }, cancellationToken));
        return command;
    }
}
