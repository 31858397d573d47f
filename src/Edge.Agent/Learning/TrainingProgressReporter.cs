using System.Diagnostics;
using EdgeTL.Protocol.Payloads;
using EdgeTL.Trainer.Training;

namespace EdgeTL.Agent.Learning;

/// <summary>
/// Turns a training loop's per-epoch reports into the job's curve (every epoch, for the final
/// result) and throttled <c>training</c> metrics: the first epoch, then at most one per
/// <paramref name="interval"/>, and the last epoch. A 600-epoch run sends a handful of messages, not 600.
/// </summary>
/// <param name="job">The job's command id.</param>
/// <param name="epochs">Planned epochs.</param>
/// <param name="interval">Least time between two published points (zero: every epoch).</param>
/// <param name="curve">Receives every epoch.</param>
/// <param name="publish">Sends one point.</param>
public sealed class TrainingProgressReporter(string job, int epochs, TimeSpan interval, List<TrainingPoint> curve, Action<TrainingProgress> publish) : IProgress<EpochMetrics>
{
    private long _lastPublished;

    /// <summary>Points published so far.</summary>
    public int Published { get; private set; }

    /// <inheritdoc/>
    public void Report(EpochMetrics value)
    {
        ArgumentNullException.ThrowIfNull(value);
        curve.Add(new TrainingPoint(value.Epoch, value.TrainLoss, value.TrainAccuracy, value.Seconds));
        long now = Stopwatch.GetTimestamp();
        bool due = Published == 0 || value.Epoch + 1 >= epochs || Stopwatch.GetElapsedTime(_lastPublished, now) >= interval;
        if (!due)
            return;
        _lastPublished = now;
        Published++;
        publish(new TrainingProgress(job, value.Epoch, epochs, value.TrainLoss, value.TrainAccuracy, value.Seconds));
    }
}
