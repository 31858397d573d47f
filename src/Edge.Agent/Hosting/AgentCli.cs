using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using EdgeTL.Trainer;
using EdgeTL.Trainer.Backbones;

namespace EdgeTL.Agent.Hosting;

/// <summary>The <c>edgetl-agent</c> command line: <c>run</c> (the service), <c>config</c>, <c>info</c> and the device commands.</summary>
internal static class AgentCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("EdgeTL device agent: serves, fine-tunes and adapts models; takes commands over MQTT.");
        root.Subcommands.Add(Run());
        root.Subcommands.Add(ConfigCommand.Create());
        root.Subcommands.Add(Info());
        root.Subcommands.Add(DeviceCommands.Status());
        root.Subcommands.Add(DeviceCommands.Predict());
        root.Subcommands.Add(DeviceCommands.Extract());
        root.Subcommands.Add(SendCommand.Create());
        return root;
    }

    private static Command Run()
    {
        var embedded = new Option<bool>("--embedded") { Description = "Start an in-process MQTT broker on 127.0.0.1 (port Agent:Broker:Port, default 1883) with the store under ./data." };
        var config = new Option<string?>("--config") { Description = "An extra JSON configuration file, read after appsettings.json and /etc/edgetl/agent.json.", HelpName = "FILE" };
        var command = new Command("run", "Run the agent (as a systemd service: Type=notify with WatchdogSec). " + AgentConfiguration.SourcesHelp) { embedded, config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var error = parse.InvocationConfiguration.Error;
            IHost host;
            try
            {
                host = AgentHost.Build([], parse.GetValue(embedded), parse.GetValue(config));
            }
            catch (Exception e) when (UnreadableFile(e) is { } problem)
            {
                return await SettingsError(error, [problem]).ConfigureAwait(false);
            }
            try
            {
                foreach (var warning in AgentConfiguration.UnknownKeys(host.Services.GetRequiredService<IConfiguration>().GetSection(AgentConfiguration.Section)))
                    await error.WriteLineAsync("warning: " + warning).ConfigureAwait(false);
                // Bind and validate before the host starts, so that a bad value is this one line and
                // not also the host's "Hosting failed to start" log entry with its stack trace.
                _ = host.Services.GetRequiredService<IOptions<AgentOptions>>().Value;
                await host.RunAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            }
            catch (OptionsValidationException e)
            {
                // Values that cannot be read and values out of range alike.
                return await SettingsError(error, e.Failures).ConfigureAwait(false);
            }
            catch (AgentException e)
            {
                await error.WriteLineAsync($"error: {e.Code}: {e.Message}").ConfigureAwait(false);
                return 3;
            }
            finally
            {
                host.Dispose();
            }
        });
        return command;
    }

    /// <summary>The problem when <paramref name="e"/> says a configuration file cannot be read (a --config file missing, a file not JSON), else null.</summary>
    internal static string? UnreadableFile(Exception e) => e switch
    {
        FileNotFoundException f => f.Message,
        InvalidDataException d => $"{d.Message} {d.InnerException?.Message}".Trim(),
        _ => null,
    };

    /// <summary>The one format of a configuration error (every bad value, one line, rc 2).</summary>
    internal static async Task<int> SettingsError(TextWriter error, IEnumerable<string> problems)
    {
        await error.WriteLineAsync($"error: invalid settings: {string.Join(" ", problems)}").ConfigureAwait(false);
        return 2;
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
