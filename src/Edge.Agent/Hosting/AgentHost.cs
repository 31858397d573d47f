using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EdgeTL.Agent.Hosting;

/// <summary>Builds the agent's Generic Host: configuration layers, validated options, systemd integration, the worker.</summary>
public static class AgentHost
{
    /// <summary>The system-wide configuration file read after appsettings.json.</summary>
    public const string SystemConfigFile = "/etc/edgetl/agent.json";

    /// <summary>
    /// Configuration: appsettings.json (beside the binary), then <see cref="SystemConfigFile"/>,
    /// then <paramref name="configFile"/> when given, then <c>EDGETL_</c> environment variables
    /// (<c>EDGETL_Agent__Device=cam-7</c>). <paramref name="embedded"/> adds the in-process broker
    /// on loopback with the store under ./data.
    /// </summary>
    /// <exception cref="FileNotFoundException"><paramref name="configFile"/> does not exist.</exception>
    /// <exception cref="InvalidDataException">A configuration file is not valid JSON.</exception>
    public static IHost Build(string[] args, bool embedded, string? configFile = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory, DisableDefaults = true });
        builder.Configuration.AddAgentSources(configFile);
        builder.Logging.AddSimpleConsoleLogging();
        builder.Services.AddEdgeAgent(builder.Configuration.GetSection(AgentConfiguration.Section), embedded);
        return builder.Build();
    }

    /// <summary>
    /// Registers the agent: options bound from <paramref name="section"/> and validated at start
    /// (a value that cannot be read fails validation like one out of range, naming the key, the
    /// value and the form expected), a warning at start for each key that binds to no setting,
    /// the agent's services and command handlers (<see cref="AgentModule"/>), systemd, and the worker.
    /// </summary>
    public static IServiceCollection AddEdgeAgent(this IServiceCollection services, IConfiguration section, bool embedded = false)
    {
        services.AddOptions<AgentOptions>().Configure(options =>
        {
            var unreadable = AgentConfiguration.Bind(section, options);
            if (unreadable.Count > 0)
                throw new OptionsValidationException(Options.DefaultName, typeof(AgentOptions), [.. unreadable, .. options.Problems()]);
        }).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();
        services.AddHostedService(provider => new ConfigurationWarnings(section, provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<ConfigurationWarnings>>()));
        services.AddSingleton(provider => provider.GetRequiredService<IOptions<AgentOptions>>().Value);
        services.AddAgentCore();
        // Created by the worker once the embedded broker (if any) is up; disposed by the host after the worker stopped it.
        services.AddSingleton(provider => new EdgeAgent(provider));
        services.AddSingleton(new EmbeddedBrokerSettings(embedded));
        services.AddSystemd();
        // AddSystemd registers the notifier only under systemd; the watchdog pinger always asks for one (disabled outside systemd).
        services.TryAddSingleton<Microsoft.Extensions.Hosting.Systemd.ISystemdNotifier, Microsoft.Extensions.Hosting.Systemd.SystemdNotifier>();
        services.AddHostedService<AgentWorker>();
        return services;
    }
}
