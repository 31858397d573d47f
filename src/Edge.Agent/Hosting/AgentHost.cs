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
    public static IHost Build(string[] args, bool embedded, string? configFile = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory, DisableDefaults = true });
        builder.Configuration.AddJsonFile("appsettings.json", optional: true);
        builder.Configuration.AddJsonFile(SystemConfigFile, optional: true);
        if (configFile is not null)
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
        builder.Configuration.AddEnvironmentVariables("EDGETL_");
        builder.Logging.AddSimpleConsoleLogging();
        builder.Services.AddEdgeAgent(builder.Configuration.GetSection("Agent"), embedded);
        return builder.Build();
    }

    /// <summary>Registers the agent: options bound from <paramref name="section"/> and validated at start, systemd, and the worker.</summary>
    public static IServiceCollection AddEdgeAgent(this IServiceCollection services, IConfiguration section, bool embedded = false)
    {
        services.AddOptions<AgentOptions>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();
        services.AddSingleton(new EmbeddedBrokerSettings(embedded));
        services.AddSystemd();
        // AddSystemd registers the notifier only under systemd; the watchdog pinger always asks for one (disabled outside systemd).
        services.TryAddSingleton<Microsoft.Extensions.Hosting.Systemd.ISystemdNotifier, Microsoft.Extensions.Hosting.Systemd.SystemdNotifier>();
        services.AddHostedService<AgentWorker>();
        return services;
    }
}
