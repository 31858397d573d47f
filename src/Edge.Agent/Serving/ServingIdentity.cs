namespace EdgeTL.Agent.Serving;

/// <summary>
/// Which model and which device head serve, as a job saw them when it began: a candidate is judged
/// against what serves, so it may replace only that (<see cref="Services.ServingUpdates.WhileUnchanged{T}"/>).
/// </summary>
/// <param name="ModelDirectory">The installed model's folder (unique per version, device-made ones included), or null before the first deployment.</param>
/// <param name="HeadId">The serving device head's record id, or null when none serves.</param>
public readonly record struct ServingIdentity(string? ModelDirectory, long? HeadId)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{(ModelDirectory is null ? "no model" : $"model {Path.GetFileName(ModelDirectory)}")} with {(HeadId is { } id ? $"head {id}" : "no device head")}";
}
