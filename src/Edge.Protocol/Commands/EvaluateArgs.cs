using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace EdgeTL.Protocol.Commands;

/// <summary>Arguments of <c>evaluate</c>.</summary>
public sealed record EvaluateArgs
{
    /// <summary>Only samples of this domain; null: every labelled sample.</summary>
    [Description("Only labelled samples of this domain; all of them when absent.")]
    [Length(1, 64)]
    public string? Domain { get; set; }
}
