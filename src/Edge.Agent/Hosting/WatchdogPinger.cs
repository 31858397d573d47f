using Microsoft.Extensions.Hosting.Systemd;

namespace EdgeTL.Agent.Hosting;

/// <summary>
/// Feeds systemd's watchdog (<c>WATCHDOG=1</c>) every <c>interval</c>, but only while
/// <c>isMakingProgress</c> says the agent's main loops ran recently: a hung loop stops the pings
/// and systemd restarts the service (Microsoft.Extensions.Hosting.Systemd sends READY and
/// STOPPING only; the watchdog is ours).
/// </summary>
public sealed class WatchdogPinger(ISystemdNotifier notifier, Func<bool> isMakingProgress, TimeSpan interval)
{
    private static readonly ServiceState Watchdog = new("WATCHDOG=1");

    /// <summary>Pings sent so far.</summary>
    public int Pings { get; private set; }

    /// <summary>Intervals in which the loops had not progressed (no ping sent).</summary>
    public int Withheld { get; private set; }

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        if (!notifier.IsEnabled)
            return;
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                if (isMakingProgress())
                {
                    notifier.Notify(Watchdog);
                    Pings++;
                }
                else
                {
                    Withheld++;
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }
}
