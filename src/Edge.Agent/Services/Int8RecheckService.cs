using System.Text.Json;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using Microsoft.Extensions.Logging;

namespace EdgeTL.Agent.Services;

/// <summary>
/// A package with an int8 backbone, deployed to a device that has not yet seen enough images, serves fp32: the int8 gate had too few
/// rows to measure the drop (<see cref="Deployment.Int8Gate"/>). As samples arrive this service watches for the moment the gate
/// would have enough (MinHoldout labelled holdout samples, or golden inputs plus recent images), and then serves the current
/// version again through the gate, as an automatic job; the state reports the new choice. It checks once per such wait: a gate
/// that then refuses int8 has measured, and its reason stands until the next deploy, rollback or restart.
/// </summary>
public sealed partial class Int8RecheckService
{
    private readonly ModelServing _serving;
    private readonly DriftMonitor _drift;
    private readonly AgentStore _store;
    private readonly JobService _jobs;
    private readonly StatePublisher _state;
    private readonly CommandResults _results;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private PrecisionChoice? _taken;

    /// <summary>Creates the service.</summary>
    public Int8RecheckService(ModelServing serving, DriftMonitor drift, AgentStore store, JobService jobs, StatePublisher state, CommandResults results,
        TimeProvider time, ILogger<Int8RecheckService> logger)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        _serving = serving;
        _drift = drift;
        _store = store;
        _jobs = jobs;
        _state = state;
        _results = results;
        _time = time;
        _logger = logger;
        jobs.Released += _ => MaybeStart();   // a cold start or fine-tune may have held the slot when the last sample arrived
    }

    /// <summary>Whether <paramref name="choice"/> kept fp32 only because the gate had fewer rows than it needs.</summary>
    public static bool AwaitsRows(PrecisionChoice? choice) =>
        choice is { Served: PrecisionChoice.FullPrecision, Test: { Length: > 0 } } && choice.N < choice.MinRows;

    /// <summary>
    /// Starts the check when the served int8 choice awaits rows, the device now has enough of them, no job runs, and this choice
    /// was not taken up before (a check that failed is not retried until the model is served again).
    /// </summary>
    public void MaybeStart()
    {
        var choice = _serving.Precision;
        if (!AwaitsRows(choice) || ReferenceEquals(Volatile.Read(ref _taken), choice) || _jobs.Current is not null || _serving.Server.Model is not { } model)
            return;
        if (_serving.Int8RowsAvailable(model.Installed) < choice!.MinRows)
            return;
        var command = new CommandEnvelope(_jobs.AutomaticId($"auto-int8-check-{model.Installed.Manifest.Counter}"), CommandNames.Deploy, _time.GetUtcNow());
        _ = _jobs.Start(command, "int8-check", token => Run(command, choice, token));
    }

    private CommandResult Run(CommandEnvelope command, PrecisionChoice before, CancellationToken cancellationToken)
    {
        // Inside the one job slot no deploy runs meanwhile, and a rollback waits for the open-and-serve below. Taken once, whatever happens.
        if (ReferenceEquals(Interlocked.Exchange(ref _taken, before), before))
            return _results.Result(command, CommandStatus.Ok, "Nothing to check: this int8 choice was checked before.");
        cancellationToken.ThrowIfCancellationRequested();
        var (nothingToCheck, choice) = _serving.Exclusively(() =>
        {
            if (!ReferenceEquals(_serving.Precision, before))
                return ((string?)"Nothing to check: the model was served again meanwhile.", (PrecisionChoice?)null);
            if (_serving.Deployer.OpenCurrent() is not { } current)
                return ("Nothing to check: nothing is installed.", null);
            try
            {
                return (null, _serving.Serve(current));
            }
            catch
            {
                current.Dispose();
                throw;
            }
        });
        if (nothingToCheck is not null)
            return _results.Result(command, CommandStatus.Ok, nothingToCheck);
        if (choice?.Served == PrecisionChoice.Quantized)
            _drift.Reset();   // the features it watches now come from the int8 backbone
        _state.Publish();
        string reason = choice?.Reason ?? "the served version has no int8 backbone";
        _store.Runs.Add("int8-check", command.Id, choice?.Served ?? PrecisionChoice.FullPrecision,
            choice is null ? "{}" : JsonSerializer.Serialize(choice, ProtocolJson.Default.PrecisionChoice));
        LogChecked(_logger, before.N, choice?.Served ?? PrecisionChoice.FullPrecision, reason);
        return _results.Result(command, CommandStatus.Ok, reason);
    }

    [LoggerMessage(EventId = 3011, EventName = "Int8Rechecked", Level = LogLevel.Information,
        Message = "The int8 backbone was checked again now that the device has enough samples (it had {Before} rows): {Served} serves. {Reason}")]
    private static partial void LogChecked(ILogger logger, int before, string served, string reason);
}
