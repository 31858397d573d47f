namespace EdgeTL.Agent.Learning;

/// <summary>A training job could not start now: the resource gate is closed. Answered <c>deferred</c>, not <c>failed</c>.</summary>
public sealed class TrainingDeferredException(string kind, string message) : Exception(message)
{
    /// <summary>The job's kind (<c>finetune</c>, <c>adapt</c>).</summary>
    public string Kind { get; } = kind;
}
