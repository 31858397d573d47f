namespace EdgeTL.Cloud;

/// <summary>The retained desired state <c>publish</c> sends to a device group.</summary>
/// <param name="Url">Where devices fetch the package (file://, http://, https://).</param>
/// <param name="Counter">The package's counter: devices deploy when it is above theirs.</param>
/// <param name="Version">The package's version.</param>
/// <param name="Name">The model name.</param>
internal sealed record DesiredState(string Url, long Counter, string Version, string Name);
