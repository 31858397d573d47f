using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace EdgeTL.Protocol.Commands;

/// <summary>Arguments of <c>deploy</c> (a job).</summary>
public sealed record DeployArgs
{
    /// <summary>Where the signed package is: an absolute <c>file://</c>, <c>http://</c> or <c>https://</c> URL.</summary>
    [Description("Absolute file://, http:// or https:// URL of the signed package.")]
    [Length(1, 4096)]
    public required string Url { get; set; }
}
