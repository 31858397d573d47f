namespace EdgeTL.Runtime.Packaging;

/// <summary>
/// Marks a model version made on the device (a backbone fine-tuned there) rather than shipped as
/// a signed package: which package it was derived from and by which job. Such a version carries its
/// parent's counter, so the next cloud package replaces it exactly as it replaces the parent.
/// </summary>
/// <param name="ParentCounter">Counter of the package it was derived from.</param>
/// <param name="ParentVersion">Version of the model it was derived from.</param>
/// <param name="Job">The command id that made it.</param>
/// <param name="Mode">How it was trained (<c>progressive</c>, <c>surgical</c>).</param>
/// <param name="CreatedAt">When it was made (UTC).</param>
/// <param name="SamplesThrough">
/// The newest stored sample id when it was made: it, its ancestors and the head it carries can have trained only on samples up
/// to this id (null in versions made before it was recorded).
/// </param>
/// <param name="HoldoutSeen">
/// Whether the head it carries (or an ancestor's) may have trained on holdout samples up to <paramref name="SamplesThrough"/>: a
/// cold-start head fits on every labelled sample. Backbone fine-tunes themselves never train on the holdout. Null: not recorded.
/// </param>
public sealed record DeviceOrigin(long ParentCounter, string ParentVersion, string Job, string Mode, DateTimeOffset CreatedAt, long? SamplesThrough = null,
    bool? HoldoutSeen = null)
{
    /// <summary>
    /// Whether neither this version nor anything it derives from can have trained on sample <paramref name="sampleId"/>
    /// (a holdout sample when <paramref name="holdout"/>). Conservative where nothing was recorded: only a version that
    /// recorded its horizon vouches for any sample.
    /// </summary>
    public bool NeverTrainedOn(long sampleId, bool holdout) =>
        SamplesThrough is { } through && (sampleId > through || (holdout && HoldoutSeen == false));
}
