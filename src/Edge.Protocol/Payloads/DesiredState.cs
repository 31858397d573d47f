namespace EdgeTL.Protocol.Payloads;

/// <summary>The retained desired state of a device group (<c>edgetl/{fleet}/group/{group}/deploy</c>): devices deploy it when <see cref="Counter"/> is above theirs.</summary>
/// <param name="Url">Where devices fetch the package (file://, http://, https://).</param>
/// <param name="Counter">The package's counter.</param>
/// <param name="Version">The package's version.</param>
/// <param name="Name">The model name.</param>
public sealed record DesiredState(string Url, long Counter, string? Version = null, string? Name = null)
{
    /// <summary>The id a device gives the deployment of counter <paramref name="counter"/> of a desired state: its result and run record carry it.</summary>
    public static string CommandId(long counter) => $"desired-{counter}";
}
