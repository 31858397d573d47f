using System.Text.Json;
using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;

namespace EdgeTL.Agent;

/// <summary><c>status</c>, <c>set-config</c>, <c>cancel</c>, and the retained <c>state</c> (one source for both, so they always agree).</summary>
public sealed partial class EdgeAgent
{
    private Task<CommandResult> StatusAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        _ = ArgsOf(command, ProtocolJson.Default.StatusArgs);
        RefreshGate();   // status and the retained state report the same reading
        var gate = Gate;
        var model = ServedModel();
        var job = Jobs.Current;
        var report = new StatusReport(Topics.Device, Topics.Fleet, model, ServingHead(), Classes, Store.Samples.Count, Store.Samples.LabelCounts(),
            job is { } j ? new JobRef(j.Id, j.Kind) : null, new OutboxStats(Store.Outbox.Count, Store.Outbox.DroppedTotal), gate.State, gate.Reason,
            LastDrift is { } d ? new DriftSummary(d.Drift, d.Mmd2, d.PValue) : null, LastDeployment);
        return Task.FromResult(Result(command, CommandStatus.Ok, model is null ? "No model deployed." : $"Serving {model.Name} {model.Version}.", report, ProtocolJson.Default.StatusReport));
    }

    private ModelRef? ServedModel() =>
        Server.Model?.Installed.Manifest is { } m ? new ModelRef(m.Name, m.Version, m.Counter, m.Architecture) : null;

    private HeadRef? ServingHead() =>
        Server.Head?.Record is { } h ? new HeadRef(h.Id, h.Kind, h.Accuracy, h.Origin) : null;

    /// <summary>The retained state now: the same facts <c>status</c> reports.</summary>
    public DeviceState CurrentState()
    {
        var gate = Gate;
        return new DeviceState(DeviceState.Online, ServedModel(), ServingHead(), gate.State, gate.Reason, LastDeployment, _time.GetUtcNow());
    }

    /// <summary>Queues the retained state (after every change it describes).</summary>
    private void PublishState()
    {
        try
        {
            Store.Outbox.Enqueue(Topics.State, StatePayload(), retain: true, droppable: false);
        }
        catch (AgentException e) when (e.Code == AgentErrorCode.StorageFull)
        {
            // A full disk: the next connect publishes the state directly (MqttConnection.OnlineState).
        }
    }

    private byte[] StatePayload() => JsonSerializer.SerializeToUtf8Bytes(CurrentState(), ProtocolJson.Default.DeviceState);

    private Task<CommandResult> SetConfigAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        var args = ArgsOf(command, ProtocolJson.Default.SetConfigArgs);
        var current = Settings;
        var drift = current.Drift;
        if (args.Drift is { } d)
        {
            drift = drift with
            {
                Enabled = d.Enabled ?? drift.Enabled,
                WindowSize = d.WindowSize ?? drift.WindowSize,
                Alpha = d.Alpha ?? drift.Alpha,
                AutoAdapt = d.AutoAdapt ?? drift.AutoAdapt,
                Method = d.Method ?? drift.Method,
                AdaptSteps = d.AdaptSteps ?? drift.AdaptSteps,
            };
        }
        var next = current with
        {
            Drift = drift,
            ColdStartShots = args.ColdStartShots ?? current.ColdStartShots,
            Classes = args.Classes ?? current.Classes,
            MaxTemperatureC = args.MaxTemperatureC ?? current.MaxTemperatureC,
            MaxLoadPerCore = args.MaxLoadPerCore ?? current.MaxLoadPerCore,
        };
        var problems = next.Problems().ToList();
        if (problems.Count > 0)
            throw new InvalidCommandArgumentsException(string.Join(" ", problems));
        string json = JsonSerializer.Serialize(next, Messaging.AgentJson.Default.RuntimeSettings);
        Store.Settings.Upsert(new SettingRecord { Id = "runtime", Json = json });
        Volatile.Write(ref _settings, next);
        if (drift != current.Drift)
            ResetDriftReference();
        // New limits can open or close the gate: say so at once, not at the next check.
        RefreshGate();
        var settings = new DeviceSettings(new DriftSettings(drift.Enabled, drift.WindowSize, drift.Alpha, drift.AutoAdapt, drift.Method, drift.AdaptSteps),
            next.ColdStartShots, next.Classes, next.MaxTemperatureC, next.MaxLoadPerCore);
        return Task.FromResult(Result(command, CommandStatus.Ok, "Settings updated.", settings, ProtocolJson.Default.DeviceSettings));
    }

    private Task<CommandResult> CancelAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        string target = ArgsOf(command, ProtocolJson.Default.CancelArgs).Id;
        return Task.FromResult(Jobs.Cancel(target)
            ? Result(command, CommandStatus.Ok, $"Job {target} is being cancelled; its own result will say Cancelled.")
            : Result(command, CommandStatus.InvalidArguments, $"No running job has id {target}."));
    }
}
