namespace EdgeTL.Agent.Hosting;

/// <summary>When the agent calls drift, and what it does then (settable at run time with <c>set-config</c>).</summary>
public sealed record DriftPolicy
{
    /// <summary>Watch served features for drift.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Predictions per drift test window.</summary>
    public int WindowSize { get; init; } = 100;

    /// <summary>Significance of the MMD permutation test.</summary>
    public double Alpha { get; init; } = 0.01;

    /// <summary>Start an adaptation job by itself when drift is detected (subject to the resource gate).</summary>
    public bool AutoAdapt { get; init; } = true;

    /// <summary>"dann", "mmd", "bn", "tent" or "auto" (as <c>adapt</c> takes them).</summary>
    public string Method { get; init; } = "mmd";

    /// <summary>Optimizer steps of an automatic adaptation.</summary>
    public int AdaptSteps { get; init; } = 400;

    /// <summary>The problems of these settings (empty when valid).</summary>
    public IEnumerable<string> Problems()
    {
        if (WindowSize < 10)
            yield return "Agent:Drift:WindowSize must be at least 10.";
        if (!(Alpha is > 0 and < 1))
            yield return "Agent:Drift:Alpha must be in (0, 1).";
        if (Method is not ("dann" or "mmd" or "bn" or "tent" or "auto"))
            yield return $"Agent:Drift:Method '{Method}' must be 'dann', 'mmd', 'bn', 'tent' or 'auto'.";
        if (AdaptSteps < 1)
            yield return "Agent:Drift:AdaptSteps must be at least 1.";
    }
}
