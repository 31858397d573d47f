using System.CommandLine;
using Microsoft.Extensions.Hosting;
using EdgeTL.Trainer;
using EdgeTL.Trainer.Backbones;

namespace EdgeTL.Agent.Hosting;

/// <summary>The <c>edgetl-agent</c> command line: <c>run</c> (the service) and <c>info</c>.</summary>
internal static class AgentCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("EdgeTL device agent: serves, fine-tunes and adapts models; takes commands over MQTT.");
        root.Subcommands.Add(Run());
        root.Subcommands.Add(Info());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(DeviceCommands.Status());
        root.Subcommands.Add(DeviceCommands.Predict());
        root.Subcommands.Add(DeviceCommands.Extract());
        return root;
    }

    private static Command Run()
    {
        var embedded = new Option<bool>("--embedded") { Description = "Start an in-process MQTT broker on 127.0.0.1 (port Agent:Broker:Port, default 1883) with the store under ./data." };
        var config = new Option<string?>("--config") { Description = "An extra JSON configuration file, read after appsettings.json and /etc/edgetl/agent.json." };
        var command = new Command("run", "Run the agent (as a systemd service: Type=notify with WatchdogSec).") { embedded, config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                using var host = AgentHost.Build([], parse.GetValue(embedded), parse.GetValue(config));
                await host.RunAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            }
            catch (Microsoft.Extensions.Options.OptionsValidationException e)
            {
                await Console.Error.WriteLineAsync($"error: invalid settings: {string.Join(" ", e.Failures)}").ConfigureAwait(false);
                return 2;
            }
            catch (AgentException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Code}: {e.Message}").ConfigureAwait(false);
                return 3;
            }
        });
        return command;
    }

    private static Command Info()
    {
        var command = new Command("info", "Report whether training (libtorch) is available and which backbones are known.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"EdgeTL agent on {Environment.MachineName} ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores)");
            Console.WriteLine($"training: {(TorchRuntime.IsAvailable ? "available" : "unavailable")} — {TorchRuntime.Describe()}");
            Console.WriteLine($"backbones: {string.Join(", ", BackboneZoo.Architectures)}");
            return TorchRuntime.IsAvailable ? 0 : 3;
        });
        return command;
    }
}
