using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace EdgeTL.Protocol.Commands;

/// <summary>Arguments of <c>rollback</c>.</summary>
public sealed record RollbackArgs
{
    /// <summary><c>model</c> (the previous package) or <c>head</c> (the previous head of the served package).</summary>
    [Description("What to roll back: the previous package ('model') or the previous head ('head').")]
    [AllowedValues("model", "head")]
    public string Target { get; set; } = "model";
}
