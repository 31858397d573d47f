using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Services;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;

namespace EdgeTL.Agent.Handlers;

/// <summary><c>set-config</c>: change the runtime settings (drift policy, cold-start shots, classes, training limits); stored, so a restart keeps them.</summary>
public sealed class SetConfigHandler(SettingsService settings, DriftMonitor drift, TrainingGateService training, CommandResults results) : ICommandHandler
{
    /// <inheritdoc/>
    public string Name => CommandNames.SetConfig;

    /// <inheritdoc/>
    public Task<CommandResult> HandleAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var args = CommandArgs.Read(command, ProtocolJson.Default.SetConfigArgs);
        var current = settings.Current;
        var policy = current.Drift;
        if (args.Drift is { } d)
        {
            policy = policy with
            {
                Enabled = d.Enabled ?? policy.Enabled,
                WindowSize = d.WindowSize ?? policy.WindowSize,
                Alpha = d.Alpha ?? policy.Alpha,
                AutoAdapt = d.AutoAdapt ?? policy.AutoAdapt,
                Method = d.Method ?? policy.Method,
                AdaptSteps = d.AdaptSteps ?? policy.AdaptSteps,
            };
        }
        var next = current with
        {
            Drift = policy,
            ColdStartShots = args.ColdStartShots ?? current.ColdStartShots,
            Classes = args.Classes ?? current.Classes,
            MaxTemperatureC = args.MaxTemperatureC ?? current.MaxTemperatureC,
            MaxLoadPerCore = args.MaxLoadPerCore ?? current.MaxLoadPerCore,
        };
        var problems = next.Problems().ToList();
        if (problems.Count > 0)
            throw new InvalidCommandArgumentsException(string.Join(" ", problems));
        settings.Save(next);
        if (policy != current.Drift)
            drift.Reset();
        // New limits can open or close the gate: say so at once, not at the next check.
        training.Refresh();
        var reply = new DeviceSettings(new DriftSettings(policy.Enabled, policy.WindowSize, policy.Alpha, policy.AutoAdapt, policy.Method, policy.AdaptSteps),
            next.ColdStartShots, next.Classes, next.MaxTemperatureC, next.MaxLoadPerCore);
        return Task.FromResult(results.Result(command, CommandStatus.Ok, "Settings updated.", reply, ProtocolJson.Default.DeviceSettings));
    }
}
