using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent.Tests.Integration;

/// <summary>The agent's log lines (Information and above) kept in memory, so a failing test can show what the agent said.</summary>
public sealed class CapturedLog : ILoggerProvider
{
    /// <summary>"Level [event] category: message" lines, in order.</summary>
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                log.Lines.Enqueue($"{logLevel} [{eventId.Id}] {category}: {formatter(state, exception)}{(exception is null ? "" : " | " + exception)}");
        }
    }
}
