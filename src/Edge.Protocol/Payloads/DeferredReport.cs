namespace EdgeTL.Protocol.Payloads;

/// <summary>
/// A <c>deferred</c> answer (and the <c>deferred</c> metric): a training job that did not run because the
/// resource gate is closed. Automatic jobs (cold start, drift adaptation) start by themselves when it opens.
/// </summary>
/// <param name="Job">The command or automatic job id.</param>
/// <param name="Kind"><c>finetune</c>, <c>adapt</c>, <c>cold-start</c>.</param>
/// <param name="Reason">The gate's reason (temperature, load, power).</param>
/// <param name="RetriesWhenOpen">True for automatic jobs: they start when the gate opens. A command must be sent again.</param>
public sealed record DeferredReport(string Job, string Kind, string Reason, bool RetriesWhenOpen);
