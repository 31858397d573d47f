namespace EdgeTL.Agent.Jobs;

/// <summary>
/// Runs one long job (deploy, fine-tune, adapt) at a time on a worker thread; each can be
/// cancelled by its command id. Jobs never throw out of here: the job itself reports its result.
/// </summary>
public sealed class JobRunner : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private RunningJob? _current;
    private Task? _last;
    private bool _closed;

    /// <summary>The running job's command id and kind, or null.</summary>
    public (string Id, string Kind)? Current
    {
        get
        {
            lock (_gate)
                return _current is { } job ? (job.Id, job.Kind) : null;
        }
    }

    /// <summary>
    /// Starts <paramref name="work"/> unless a job runs; false (with the running job's id) when busy, and false with a null id once
    /// the runner is being disposed.
    /// <paramref name="whenReleased"/> runs after the slot is free again: a final result published
    /// there can be followed at once by the next job, which is not answered <c>busy</c>.
    /// </summary>
    public bool TryStart(string id, string kind, Func<CancellationToken, Task> work, out string? runningId, Action? whenReleased = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        lock (_gate)
        {
            if (_current is { } running)
            {
                runningId = running.Id;
                return false;
            }
            if (_closed)
            {
                runningId = null;
                return false;
            }
            var cts = new CancellationTokenSource();
            var job = new RunningJob(id, kind, cts);
            _current = job;
            _last = job.Task = Task.Run(async () =>
            {
                try
                {
                    await work(cts.Token).ConfigureAwait(false);
                }
                finally
                {
                    lock (_gate)
                        _current = null;
                    cts.Dispose();
                    whenReleased?.Invoke();
                }
            });
            runningId = null;
            return true;
        }
    }

    /// <summary>Cancels the running job if its id is <paramref name="id"/>; false otherwise.</summary>
    public bool Cancel(string id)
    {
        lock (_gate)
        {
            if (_current is not { } job || job.Id != id)
                return false;
            job.Cancellation.Cancel();
            return true;
        }
    }

    /// <summary>Waits for the running job, if any (tests, shutdown).</summary>
    public async Task WaitIdleAsync(CancellationToken cancellationToken = default)
    {
        Task? task;
        lock (_gate)
            task = _current?.Task;
        if (task is not null)
            await task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Cancels and waits for the running job, including what runs once its slot is free; no job starts after this.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? task;
        lock (_gate)
        {
            _closed = true;
            _current?.Cancellation.Cancel();
            task = _current?.Task ?? _last;
        }
        if (task is not null)
        {
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private sealed class RunningJob(string id, string kind, CancellationTokenSource cancellation)
    {
        public string Id { get; } = id;
        public string Kind { get; } = kind;
        public CancellationTokenSource Cancellation { get; } = cancellation;
        public Task? Task { get; set; }
    }
}
