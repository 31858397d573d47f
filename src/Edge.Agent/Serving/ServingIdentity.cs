namespace EdgeTL.Agent.Serving;

/// <summary>
/// What served when a job began: a candidate is made from, and judged against, what serves, so it may
/// replace only that (<see cref="Services.ServingUpdates.WhileUnchanged{T}"/>).
/// </summary>
/// <param name="ModelDirectory">The installed model's folder (unique per version, device-made ones included), or null before the first deployment.</param>
/// <param name="HeadId">The serving device head's record id, or null when none serves.</param>
/// <param name="Swaps">How many times the server has swapped its model or head: two rollbacks in a row serve the same folder and head
/// again, but not the same objects, and a candidate made in between was made from the other model.</param>
public readonly record struct ServingIdentity(string? ModelDirectory, long? HeadId, long Swaps)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{(ModelDirectory is null ? "no model" : $"model {Path.GetFileName(ModelDirectory)}")} with {(HeadId is { } id ? $"head {id}" : "no device head")}, swap {Swaps}";
}
