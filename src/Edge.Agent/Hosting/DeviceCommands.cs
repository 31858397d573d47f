using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeTL.Protocol.Commands;
using EdgeTL.Runtime.Features;
using EdgeTL.Runtime.Packaging;
using EdgeTL.Control;

namespace EdgeTL.Agent.Hosting;

/// <summary>
/// <c>status</c>, <c>predict</c> and <c>extract</c>: against a running agent over MQTT
/// (<c>--broker host:port --device D</c>, through <see cref="RemoteCall"/> as <c>send</c> does), or offline
/// on a signed package (<c>--package P --trusted DIR</c>). Exit codes: 0 ok, 2 bad arguments, 3 the
/// device or package refused, 8 the broker could not be reached, 124 no answer in time; the rest of
/// <see cref="SendExitCodes"/> for the other final statuses.
/// </summary>
internal static class DeviceCommands
{
    public static Command Status()
    {
        var (broker, fleet, device) = RemoteOptions();
        var command = new Command("status", "Ask a running agent for its status over MQTT.") { broker, fleet, device };
        command.SetAction((parse, cancellationToken) => RemoteAsync(parse, parse.GetValue(broker)!, parse.GetValue(fleet)!, parse.GetValue(device)!, "status", null, cancellationToken));
        return command;
    }

    public static Command Predict()
    {
        var (broker, fleet, device) = RemoteOptions();
        var image = new Option<string>("--image") { Description = "Image file (PNG or JPEG).", Required = true };
        var package = new Option<string?>("--package") { Description = "Offline: a signed package (tar or folder) to predict with, instead of a running agent." };
        var trusted = new Option<string?>("--trusted") { Description = "Offline: folder of trusted public keys (*.pem)." };
        var command = new Command("predict", "Predict the class of an image: on a running agent (--broker, --device), or offline with a package (--package, --trusted).")
        {
            image, broker, fleet, device, package, trusted,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            byte[] bytes = await File.ReadAllBytesAsync(parse.GetValue(image)!, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(package) is { } path)
            {
                return Offline(parse, path, parse.GetValue(trusted), served =>
                {
                    var predictor = served.Predictor ?? throw new AgentException(AgentErrorCode.NoModel, "The package has no head; predictions need a device-trained head (use a running agent).");
                    var p = predictor.PredictEncoded([bytes])[0];
                    parse.InvocationConfiguration.Output.WriteLine($"{p.Label} ({p.Confidence.ToString("P1", CultureInfo.InvariantCulture)})");
                });
            }
            using var args = JsonDocument.Parse(new JsonObject { ["image"] = Convert.ToBase64String(bytes) }.ToJsonString());
            return await RemoteAsync(parse, parse.GetValue(broker)!, parse.GetValue(fleet)!, parse.GetValue(device)!, "predict",
                args.RootElement.Clone(), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    public static Command Extract()
    {
        var images = new Option<string[]>("--image") { Description = "Image files.", Required = true, AllowMultipleArgumentsPerToken = true };
        var package = new Option<string>("--package") { Description = "A signed package (tar or folder) whose frozen backbone extracts the features.", Required = true };
        var trusted = new Option<string>("--trusted") { Description = "Folder of trusted public keys (*.pem).", Required = true };
        var output = new Option<string>("--out") { Description = "Where to write the features (float32, row-major [n, d]).", DefaultValueFactory = _ => "features.f32" };
        var command = new Command("extract", "Extract backbone features of images with a package, offline.") { images, package, trusted, output };
        command.SetAction(parse => Offline(parse, parse.GetValue(package)!, parse.GetValue(trusted), served =>
        {
            var files = parse.GetValue(images)!;
            var features = served.Features.ExtractEncoded([.. files.Select(File.ReadAllBytes)]);
            var bytes = new byte[features.Length * sizeof(float)];
            Buffer.BlockCopy(features, 0, bytes, 0, bytes.Length);
            File.WriteAllBytes(parse.GetValue(output)!, bytes);
            parse.InvocationConfiguration.Output.WriteLine($"{files.Length} × {served.Features.FeatureDim} features → {parse.GetValue(output)}");
        }));
        return command;
    }

    /// <summary>The options that name a running agent: <c>--broker host:port</c>, <c>--fleet</c>, <c>--device</c>.</summary>
    internal static (Option<string> Broker, Option<string> Fleet, Option<string> Device) RemoteOptions() =>
        (new Option<string>("--broker") { Description = "host:port of the broker the agent uses.", DefaultValueFactory = _ => "127.0.0.1:1883" },
         new Option<string>("--fleet") { Description = "Fleet of the device.", DefaultValueFactory = _ => "default" },
         new Option<string>("--device") { Description = "Device id.", DefaultValueFactory = _ => Environment.MachineName.ToLowerInvariant() });

    /// <summary>Sends <paramref name="name"/> and prints its final result as indented JSON.</summary>
    private static Task<int> RemoteAsync(ParseResult parse, string broker, string fleet, string device, string name, JsonElement? args, CancellationToken cancellationToken)
    {
        var envelope = new CommandEnvelope(RemoteCall.NewId(name), name, DateTimeOffset.UtcNow, Args: args);
        return RemoteCall.RunAsync(broker, fleet, device, envelope, TimeSpan.FromSeconds(30), (result, payload) =>
        {
            if (result.IsFinal)
                parse.InvocationConfiguration.Output.WriteLine(JsonNode.Parse(payload)?.ToJsonString(Indented) ?? payload);
            return Task.CompletedTask;
        }, parse.InvocationConfiguration.Error, cancellationToken);
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static int Offline(ParseResult parse, string package, string? trustedDirectory, Action<ServedModel> use)
    {
        if (trustedDirectory is null)
        {
            parse.InvocationConfiguration.Error.WriteLine("error: --trusted is required with --package (a folder of trusted public keys).");
            return 2;
        }
        string root = Directory.CreateTempSubdirectory("edgetl-offline-").FullName;
        try
        {
            using var keys = TrustedKeys.FromDirectory(trustedDirectory);
            var installed = new ModelStore(root, keys).Install(package);
            using var served = ServedModel.Open(installed);
            use(served);
            return 0;
        }
        catch (PackageRejectedException e)
        {
            parse.InvocationConfiguration.Error.WriteLine($"error: the package was refused: {e.Message}");
            return 3;
        }
        catch (AgentException e)
        {
            parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
            return 3;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
