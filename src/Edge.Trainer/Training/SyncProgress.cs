namespace EdgeTL.Trainer.Training;

/// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread, in order (Progress&lt;T&gt; posts to the thread pool).</summary>
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    /// <summary>Calls the report action now, on this thread.</summary>
    public void Report(T value) => report(value);
}
