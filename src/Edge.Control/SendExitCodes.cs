using EdgeTL.Protocol.Commands;

namespace EdgeTL.Control;

/// <summary>
/// What the exit code of <c>edgetl-agent send</c> (and <c>status</c>, <c>predict</c>) says: the
/// final status of the command, grouped by what the sender should do about it.
/// </summary>
public static class SendExitCodes
{
    /// <summary>The command ran: <c>ok</c>.</summary>
    public const int Ok = 0;
    /// <summary>The command line itself is wrong (bad option, --args not JSON, unknown command name, bad id); nothing was sent.</summary>
    public const int BadArguments = 2;
    /// <summary>The device refused or the command failed: <c>failed</c>, <c>invalidArguments</c>, <c>malformed</c>, <c>unknownCommand</c>, <c>tooLarge</c>, <c>wrongDevice</c>. Sending it again unchanged will not help.</summary>
    public const int Failed = 3;
    /// <summary>The clocks disagree: <c>expired</c> or <c>notYetValid</c>. Check the sender's and the device's clocks, or --expires.</summary>
    public const int Clock = 4;
    /// <summary>Not now: <c>busy</c> (a job runs, or the queue is full) or <c>deferred</c> (the training gate is closed). Send it again later with a new id.</summary>
    public const int TryLater = 5;
    /// <summary>The job did not finish: <c>cancelled</c> or <c>interrupted</c> (the agent stopped while it ran). Nothing it made was kept.</summary>
    public const int NotFinished = 6;
    /// <summary><c>duplicate</c>: the id was received before and is not run again; the first run's final result is in <c>data.firstResult</c>.</summary>
    public const int Duplicate = 7;
    /// <summary>The broker could not be reached.</summary>
    public const int BrokerUnreachable = 8;
    /// <summary>No final result within --timeout (a job may still be running).</summary>
    public const int Timeout = 124;

    /// <summary>The exit code of a command whose final status is <paramref name="status"/>.</summary>
    public static int Of(CommandStatus status) => status switch
    {
        CommandStatus.Ok => Ok,
        CommandStatus.Expired or CommandStatus.NotYetValid => Clock,
        CommandStatus.Busy or CommandStatus.Deferred => TryLater,
        CommandStatus.Cancelled or CommandStatus.Interrupted => NotFinished,
        CommandStatus.Duplicate => Duplicate,
        CommandStatus.Accepted => Timeout,   // never final; only reached when the final result did not come
        _ => Failed,
    };

    /// <summary>The table, as <c>send --help</c> prints it.</summary>
    public const string Table =
        "Exit codes: 0 ok; 2 bad command line (nothing sent); 3 failed or refused (failed, invalidArguments, malformed, unknownCommand, tooLarge, wrongDevice); " +
        "4 clock (expired, notYetValid); 5 try later (busy, deferred); 6 not finished (cancelled, interrupted); 7 duplicate (the id was used before; data.firstResult has its result); " +
        "8 broker unreachable; 124 no final result within --timeout.";
}
