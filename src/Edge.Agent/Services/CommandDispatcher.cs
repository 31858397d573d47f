using System.Collections.Frozen;
using System.Threading.Channels;
using EdgeTL.Agent.Commands;
using EdgeTL.Agent.Handlers;
using EdgeTL.Agent.Hosting;
using EdgeTL.Agent.Messaging;
using EdgeTL.Agent.Storage;
using EdgeTL.Protocol.Commands;
using EdgeTL.Protocol.Json;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Protocol.Topics;

namespace EdgeTL.Agent.Services;

/// <summary>
/// The command path: MQTT message → decode (every bad input gets an error result) → bounded
/// queue (full: <c>busy</c>) → inbox claim (a replayed id runs once) → the command's
/// <see cref="ICommandHandler"/> → result through the outbox. The group's desired state goes to
/// <see cref="DeploymentService.OnDesiredState"/>.
/// </summary>
public sealed class CommandDispatcher
{
    /// <summary>Read-only commands: they still run when the disk is too full to record them, so a full device stays observable.</summary>
    private static readonly FrozenSet<string> RunsUnrecordedWhenFull = FrozenSet.ToFrozenSet([CommandNames.Status, CommandNames.Predict, CommandNames.Cancel], StringComparer.Ordinal);

    private readonly AgentOptions _options;
    private readonly DeviceTopics _topics;
    private readonly CommandDecoder _decoder;
    private readonly MqttConnection _connection;
    private readonly AgentStore _store;
    private readonly CommandResults _results;
    private readonly DeploymentService _deployment;
    private readonly FrozenDictionary<string, ICommandHandler> _handlers;
    private readonly Channel<CommandEnvelope> _queue;

    /// <summary>Creates the dispatcher; every command of the protocol must have exactly one handler.</summary>
    public CommandDispatcher(AgentOptions options, DeviceTopics topics, CommandDecoder decoder, MqttConnection connection, AgentStore store, CommandResults results,
        DeploymentService deployment, IEnumerable<ICommandHandler> handlers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handlers);
        _options = options;
        _topics = topics;
        _decoder = decoder;
        _connection = connection;
        _store = store;
        _results = results;
        _deployment = deployment;
        _handlers = handlers.ToFrozenDictionary(h => h.Name, StringComparer.Ordinal);
        var missing = CommandNames.All.Where(name => !_handlers.ContainsKey(name)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"No handler is registered for: {string.Join(", ", missing)}.");
        _queue = Channel.CreateBounded<CommandEnvelope>(new BoundedChannelOptions(options.CommandQueueCapacity) { FullMode = BoundedChannelFullMode.Wait });
    }

    /// <summary>When the command loop last ran (for the watchdog).</summary>
    public DateTimeOffset LastAlive { get; private set; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// Takes one command message as if it came from the broker (the receive loop calls this;
    /// so can an in-process caller). Never throws for bad input: the answer is a result.
    /// </summary>
    public void Submit(string topic, byte[] payload)
    {
        var decoded = _decoder.Decode(topic, payload);
        if (decoded.Error is { } error)
        {
            _results.Publish(error);
            return;
        }
        if (!_queue.Writer.TryWrite(decoded.Command!))
            _results.Publish(_results.Result(decoded.Command!, CommandStatus.Busy, $"The command queue is full ({_options.CommandQueueCapacity}); try again later."));
    }

    /// <summary>Reads the broker's messages until cancelled.</summary>
    public async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        string desired = _topics.GroupDeploy(_options.Group);
        await foreach (var message in _connection.Incoming.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (message.Topic == desired)
                _deployment.OnDesiredState(message.Payload);
            else
                Submit(message.Topic, message.Payload);
        }
    }

    /// <summary>Runs queued commands one after another until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            LastAlive = DateTimeOffset.UtcNow;
            using var tick = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            tick.CancelAfter(TimeSpan.FromMilliseconds(500));
            CommandEnvelope command;
            try
            {
                if (!await _queue.Reader.WaitToReadAsync(tick.Token).ConfigureAwait(false) || !_queue.Reader.TryRead(out command!))
                    continue;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                continue;
            }
            await ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ExecuteAsync(CommandEnvelope command, CancellationToken cancellationToken)
    {
        bool claimed;
        InboxEntry? existing;
        try
        {
            claimed = _store.Inbox.TryClaim(command.Id, command.Name, out existing);
        }
        catch (AgentException e) when (e.Code == AgentErrorCode.StorageFull)
        {
            if (!RunsUnrecordedWhenFull.Contains(command.Name))
            {
                _results.Publish(_results.Result(command, CommandStatus.Failed, e.Message, new ErrorReport(e.Code.ToString()), ProtocolJson.Default.ErrorReport));
                return;
            }
            (claimed, existing) = (true, null);
        }
        if (!claimed)
        {
            _results.Publish(_results.Duplicate(command, existing));
            return;
        }
        CommandResult result;
        try
        {
            result = await _handlers[command.Name].HandleAsync(command, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            result = _results.Failure(command, e);
        }
        if (result.Status != CommandStatus.Accepted)
            _results.Complete(result);
        else
            _results.Publish(result);
    }
}
