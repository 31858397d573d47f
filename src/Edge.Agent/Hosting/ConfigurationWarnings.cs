using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent.Hosting;

/// <summary>
/// At start, logs a warning for every configuration key under <c>Agent:</c> that binds to no
/// setting (a misspelt <c>EDGETL_Agent__Devic</c> would otherwise be ignored without a word).
/// </summary>
internal sealed partial class ConfigurationWarnings(IConfiguration section, ILogger<ConfigurationWarnings> logger) : IHostedService
{
    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var warning in AgentConfiguration.UnknownKeys(section))
            UnknownSetting(logger, warning);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(9101, LogLevel.Warning, "{Warning}", EventName = "UnknownSetting")]
    private static partial void UnknownSetting(ILogger logger, string warning);
}
