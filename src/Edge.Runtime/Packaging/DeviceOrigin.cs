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
public sealed record DeviceOrigin(long ParentCounter, string ParentVersion, string Job, string Mode, DateTimeOffset CreatedAt);
