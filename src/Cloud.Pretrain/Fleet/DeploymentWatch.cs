using System.Collections.Concurrent;
using System.Text.Json;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Protocol.Topics;

namespace EdgeTL.Cloud;

/// <summary>
/// Decides, from the messages devices publish, what each awaited device did with one counter:
/// <c>…/metrics/deployment</c> (<c>data.counter</c> = the counter) and the retained <c>…/state</c>
/// (<c>lastDeployment.command</c> = <c>desired-{counter}</c>, which also carries refusals whose
/// package was never trusted enough to read its counter, or <c>model.counter</c> already there).
/// </summary>
internal sealed class DeploymentWatch(string fleet, long counter, IEnumerable<string> devices)
{
    private readonly HashSet<string> _awaited = new(devices, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DeviceOutcome> _outcomes = new(StringComparer.Ordinal);

    /// <summary>Raised when a device's outcome is first known.</summary>
    public event Action<DeviceOutcome>? Decided;

    /// <summary>Outcomes known so far.</summary>
    public IReadOnlyDictionary<string, DeviceOutcome> Outcomes => _outcomes;

    /// <summary>True once every awaited device has an outcome.</summary>
    public bool Complete => _awaited.All(_outcomes.ContainsKey);

    /// <summary>Reads one message; ignores what does not concern the counter or the awaited devices.</summary>
    public void Observe(string topic, ReadOnlySpan<byte> payload)
    {
        if (!DeviceTopics.TryParseDeviceTopic(topic, fleet, out string device, out string rest) || !_awaited.Contains(device) || _outcomes.ContainsKey(device))
            return;
        DeviceOutcome? outcome;
        try
        {
            outcome = rest switch
            {
                "metrics/deployment" => FromMetric(device, PayloadReader.ReadUtf8(payload, ProtocolJson.Default.MetricMessage, "metric")),
                "state" => FromState(device, PayloadReader.ReadUtf8(payload, ProtocolJson.Default.DeviceState, "state")),
                _ => null,
            };
        }
        catch (ProtocolException)
        {
            return;   // not ours to judge: a payload of another shape says nothing about this counter
        }
        if (outcome is not null && _outcomes.TryAdd(device, outcome))
            Decided?.Invoke(outcome);
    }

    private DeviceOutcome? FromMetric(string device, MetricMessage metric)
    {
        DeploymentReport? data;
        try
        {
            data = metric.Data.Deserialize(ProtocolJson.Default.DeploymentReport);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
        if (data is null || data.Counter != counter)
            return null;
        return new DeviceOutcome(device, data.Status, data.Reason, data.Version, data.Counter);
    }

    private DeviceOutcome? FromState(string device, DeviceState state)
    {
        long? running = state.Model?.Counter;
        string? version = state.Model?.Version;
        if (state.LastDeployment is { } last && last.Command == DesiredState.CommandId(counter))
            return new DeviceOutcome(device, last.Status, last.Reason, version, running);
        if (running == counter)
            return new DeviceOutcome(device, "Promoted", "already serving it", version, running);
        if (running > counter)
            return new DeviceOutcome(device, "Newer", $"serves counter {running}, above {counter}", version, running);
        return null;
    }
}
