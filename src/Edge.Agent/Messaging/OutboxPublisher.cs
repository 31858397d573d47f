using EdgeTL.Agent.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeTL.Agent.Messaging;

/// <summary>
/// Drains the outbox to the broker in sequence order, one QoS 1 publish at a time, deleting a
/// row only after its PUBACK. When a publish fails (broker gone) it stops and waits for the
/// connection to return, then resumes from the same row, so order is kept and nothing is lost.
/// A row whose PUBACK was lost may be published again: the <c>edgetl-seq</c> property and the
/// payload's <c>seq</c> let receivers drop such repeats.
/// </summary>
public sealed class OutboxPublisher : IAsyncDisposable
{
    private readonly Outbox _outbox;
    private readonly MqttConnection _connection;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    /// <summary>Creates the publisher for <paramref name="outbox"/> over <paramref name="connection"/>.</summary>
    public OutboxPublisher(Outbox outbox, MqttConnection connection, ILogger<OutboxPublisher>? logger = null)
    {
        _outbox = outbox ?? throw new ArgumentNullException(nameof(outbox));
        _connection = connection ?? throw new ArgumentNullException(nameof(connection));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _outbox.Enqueued += Wake;
        _connection.Connected += Wake;
    }

    /// <summary>When the loop last ran (for the watchdog).</summary>
    public DateTimeOffset LastAlive { get; private set; } = DateTimeOffset.UtcNow;

    /// <summary>Messages published and acknowledged since start.</summary>
    public long Published { get; private set; }

    /// <summary>Starts draining.</summary>
    public void Start() => _loop ??= Task.Run(() => RunAsync(_stop.Token));

    /// <summary>Publishes until the outbox is empty or <paramref name="timeout"/> passes (SIGTERM); returns the rows left.</summary>
    public async Task<int> FlushAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!cts.IsCancellationRequested && _outbox.Count > 0)
        {
            if (!await DrainOnceAsync(cts.Token).ConfigureAwait(false))
            {
                try
                {
                    await Task.Delay(100, cts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        return _outbox.Count;
    }

    private void Wake()
    {
        if (_wake.CurrentCount == 0)
            _wake.Release();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                LastAlive = DateTimeOffset.UtcNow;
                await DrainOnceAsync(cancellationToken).ConfigureAwait(false);
                await _wake.WaitAsync(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is LiteDB.LiteException or IOException)
            {
                _logger.OutboxFailed(e);
                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private readonly SemaphoreSlim _drain = new(1);

    /// <summary>Publishes the waiting rows in order; false when a publish failed.</summary>
    private async Task<bool> DrainOnceAsync(CancellationToken cancellationToken)
    {
        await _drain.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (_connection.IsConnected)
            {
                var batch = _outbox.Peek(64);
                if (batch.Count == 0)
                    return true;
                foreach (var message in batch)
                {
                    if (!await _connection.PublishAsync(message.Topic, message.Payload, message.Retain, message.Id, cancellationToken).ConfigureAwait(false))
                        return false;
                    _outbox.Acknowledge(message.Id);
                    Published++;
                    LastAlive = DateTimeOffset.UtcNow;
                }
            }
            return false;
        }
        finally
        {
            _drain.Release();
        }
    }

    /// <summary>Stops the loop (call <see cref="FlushAsync"/> first to drain).</summary>
    public async ValueTask DisposeAsync()
    {
        _outbox.Enqueued -= Wake;
        _connection.Connected -= Wake;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
            await _loop.ConfigureAwait(false);
        _stop.Dispose();
        _wake.Dispose();
        _drain.Dispose();
    }
}
