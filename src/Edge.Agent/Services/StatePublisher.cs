using System.Text.Json;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Protocol.Topics;

namespace EdgeTL.Agent.Services;

/// <summary>
/// The retained <c>state</c>: the same facts <c>status</c> reports (served model and head, the
/// training gate, the last deployment), queued after every change it describes.
/// </summary>
public sealed class StatePublisher
{
    private readonly ModelServing _serving;
    private readonly TrainingGateService _gate;
    private readonly AgentStore _store;
    private readonly DeviceTopics _topics;
    private readonly TimeProvider _time;

    /// <summary>Creates the publisher.</summary>
    public StatePublisher(ModelServing serving, TrainingGateService gate, AgentStore store, DeviceTopics topics, TimeProvider time)
    {
        _serving = serving;
        _gate = gate;
        _store = store;
        _topics = topics;
        _time = time;
    }

    /// <summary>The retained state now.</summary>
    public DeviceState Current()
    {
        var gate = _gate.Current;
        return new DeviceState(DeviceState.Online, _serving.ServedModel(), _serving.ServingHead(), gate.State, gate.Reason, _serving.LastDeployment, _time.GetUtcNow());
    }

    /// <summary>The retained state's payload now.</summary>
    public byte[] Payload() => JsonSerializer.SerializeToUtf8Bytes(Current(), ProtocolJson.Default.DeviceState);

    /// <summary>Queues the retained state.</summary>
    public void Publish()
    {
        try
        {
            _store.Outbox.Enqueue(_topics.State, Payload(), retain: true, droppable: false);
        }
        catch (AgentException e) when (e.Code == AgentErrorCode.StorageFull)
        {
            // A full disk: the next connect publishes the state directly (MqttConnection.OnlineState).
        }
    }
}
