using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace EdgeTL.Protocol.Commands;

/// <summary>Arguments of <c>cancel</c>.</summary>
public sealed record CancelArgs
{
    /// <summary>The id of the running job's command.</summary>
    [Description("The command id of the running job.")]
    [Length(1, CommandEnvelope.MaxIdLength)]
    public required string Id { get; set; }
}
