using EdgeTL.Agent.Services;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;

namespace EdgeTL.Agent.Handlers;

/// <summary><c>adapt</c> (a job): adapt to a target domain with the given method, or the drift policy's.</summary>
public sealed class AdaptHandler(SettingsService settings, TrainingGateService training, JobService jobs, AdaptationService adaptation) : ICommandHandler
{
    /// <inheritdoc/>
    public string Name => CommandNames.Adapt;

    /// <inheritdoc/>
    public Task<CommandResult> HandleAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var args = CommandArgs.Read(command, ProtocolJson.Default.AdaptArgs);
        string method = args.Method ?? settings.Current.Drift.Method;
        training.Require(CommandNames.Adapt);
        return Task.FromResult(jobs.Start(command, CommandNames.Adapt, token => adaptation.Run(command, method, args.Steps, args.TargetDomain, null, token)));
    }
}
