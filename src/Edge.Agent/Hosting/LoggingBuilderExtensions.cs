using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent.Hosting;

/// <summary>Console logging that journald reads well (one line per entry, no colours when redirected).</summary>
internal static class LoggingBuilderExtensions
{
    public static ILoggingBuilder AddSimpleConsoleLogging(this ILoggingBuilder logging) =>
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.ColorBehavior = Microsoft.Extensions.Logging.Console.LoggerColorBehavior.Disabled;
        });
}
