using System.Diagnostics;
using EdgeTL.Agent.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeTL.Agent.Messaging;

/// <summary>
/// Drains the outbox to the broker in sequence order over one connection, with up to
/// <see cref="Window"/> QoS 1 publishes sent and not yet removed from the outbox: publishes go out
/// in sequence order while earlier PUBACKs are awaited (MQTT keeps the order of one connection's
/// QoS 1 messages), and rows are removed after their PUBACK, an unbroken run at a time, in one
/// transaction. When a publish fails (broker gone) it stops and waits for the connection to
/// return, then resumes from the oldest row not acknowledged, so order is kept and nothing is lost.
/// Rows whose PUBACK was lost, or that were acknowledged but not yet removed when the agent was
/// killed, are published again (at most <see cref="Window"/> of them): the <c>edgetl-seq</c>
/// property and the payload's <c>seq</c> let receivers drop such repeats.
/// </summary>
public sealed class OutboxPublisher : IAsyncDisposable
{
    /// <summary>The default of <see cref="Window"/>.</summary>
    public const int DefaultWindow = 64;

    /// <summary>How long acknowledged rows wait for more, while a producer is queueing, before their removal when nothing else is in flight.</summary>
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(5);

    private readonly Outbox _outbox;
    private readonly MqttConnection _connection;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly SemaphoreSlim _drain = new(1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Queue<(long Id, Task<bool> Acknowledged)> _inFlight = new();
    private Task? _loop;
    private int _disposed;
    private long _lastEnqueued;   // Stopwatch timestamp of the last message queued

    /// <summary>Creates the publisher for <paramref name="outbox"/> over <paramref name="connection"/>.</summary>
    public OutboxPublisher(Outbox outbox, MqttConnection connection, ILogger<OutboxPublisher>? logger = null, int window = DefaultWindow)
    {
        _outbox = outbox ?? throw new ArgumentNullException(nameof(outbox));
        _connection = connection ?? throw new ArgumentNullException(nameof(connection));
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        Window = window;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _outbox.Enqueued += OnEnqueued;
        _connection.Connected += Wake;
    }

    /// <summary>
    /// Most messages published and not yet removed from the outbox (in flight, or acknowledged and
    /// waiting for the batch that removes them, half of it at a time); the broker's Receive Maximum
    /// caps the publishes in flight. 1 is one publish at a time. A SIGKILL can make up to this many
    /// messages arrive twice.
    /// </summary>
    public int Window { get; }

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
            bool drained;
            try
            {
                drained = await DrainOnceAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                break;
            }
            if (!drained)
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

    private void OnEnqueued()
    {
        Volatile.Write(ref _lastEnqueued, Stopwatch.GetTimestamp());
        Wake();
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

    /// <summary>
    /// Publishes the waiting rows in order, keeping up to <see cref="Window"/> of them published and
    /// not yet removed; true once the outbox is empty, false when a publish failed or the
    /// connection is down.
    /// </summary>
    private async Task<bool> DrainOnceAsync(CancellationToken cancellationToken)
    {
        await _drain.WaitAsync(cancellationToken).ConfigureAwait(false);
        long acknowledged = 0;   // the newest row of the unbroken run of PUBACKs not yet removed
        int waiting = 0;         // rows in that run
        bool failed = false;
        try
        {
            var rows = new Queue<OutboxMessage>();
            long sent = 0;       // the newest row published in this drain
            // Publishes out at once: the window, capped by the broker's Receive Maximum (mosquitto's
            // default is 20). Rows out or acknowledged and not yet removed: the window, whatever the
            // broker, so the removals come in runs of half the window.
            int window = Window;
            int inFlight = Math.Max(1, Math.Min(window, _connection.ReceiveMaximum));
            int batch = Math.Max(1, window / 2);
            bool empty;
            while (true)
            {
                // Publish in order while the window has room; the calls are made one after another on
                // this thread, so MQTTnet writes the packets in this order.
                empty = false;
                while (!failed && _inFlight.Count < inFlight && _inFlight.Count + waiting < window && _connection.IsConnected)
                {
                    if (rows.Count == 0)
                    {
                        foreach (var row in _outbox.Peek(sent, Math.Max(window, 64)))
                            rows.Enqueue(row);
                        if (rows.Count == 0)
                        {
                            empty = true;
                            break;
                        }
                    }
                    var message = rows.Dequeue();
                    _inFlight.Enqueue((message.Id, _connection.PublishAsync(message.Topic, message.Payload, message.Retain, message.Id, cancellationToken)));
                    sent = message.Id;
                }
                if (_inFlight.Count == 0)
                    break;

                // The oldest publish's PUBACK; after a failure the rest are only waited for (sent again next time).
                var (id, publish) = _inFlight.Dequeue();
                if (await publish.ConfigureAwait(false) && !failed)
                {
                    acknowledged = id;
                    waiting++;
                    Published++;
                    LastAlive = DateTimeOffset.UtcNow;
                }
                else
                {
                    failed = true;
                }
                if (waiting > 0 && (waiting >= batch || _inFlight.Count == 0))
                {
                    // Nothing left to wait for and the batch not full, while a producer is queueing
                    // messages: if more come within a moment, publish them first and remove the run
                    // together (a producer that keeps the publisher just behind it would otherwise
                    // cost a removal per message). Otherwise the run goes now.
                    if (waiting < batch && !failed && Stopwatch.GetElapsedTime(Volatile.Read(ref _lastEnqueued)) < Linger
                        && await MoreSoonAsync(cancellationToken).ConfigureAwait(false))
                        continue;
                    _outbox.AcknowledgeThrough(acknowledged);
                    waiting = 0;
                }
            }
            return !failed && empty;
        }
        finally
        {
            // On an exception (cancellation, the store) the publishes still out are waited for, so
            // none is left behind, and the acknowledged run is removed if the store allows.
            while (_inFlight.TryDequeue(out var rest))
            {
                var done = await Task.WhenAny(rest.Acknowledged).ConfigureAwait(false);   // never throws
                _ = done.Exception;   // observed: the row is sent again next time
            }
            try
            {
                if (waiting > 0)
                    _outbox.AcknowledgeThrough(acknowledged);
            }
            finally
            {
                _drain.Release();
            }
        }
    }

    /// <summary>True when a message is queued (or the connection returns) within <see cref="Linger"/>.</summary>
    private Task<bool> MoreSoonAsync(CancellationToken cancellationToken) => _wake.WaitAsync(Linger, cancellationToken);

    /// <summary>Stops the loop (call <see cref="FlushAsync"/> first to drain).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        _outbox.Enqueued -= OnEnqueued;
        _connection.Connected -= Wake;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
            await _loop.ConfigureAwait(false);
        _stop.Dispose();
        _wake.Dispose();
        _drain.Dispose();
    }
}
