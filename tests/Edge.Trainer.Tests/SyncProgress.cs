namespace EdgeTL.Trainer.Tests;

/// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and outlive the test).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
