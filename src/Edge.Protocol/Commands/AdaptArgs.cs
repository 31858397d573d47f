using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace EdgeTL.Protocol.Commands;

/// <summary>Arguments of <c>adapt</c> (a job): align the head's features from the labelled source samples to a target domain.</summary>
public sealed record AdaptArgs
{
    /// <summary><c>dann</c> or <c>mmd</c>; null: the drift policy's method.</summary>
    [Description("'dann' (gradient reversal) or 'mmd'; the device's drift policy method when absent.")]
    [AllowedValues("dann", "mmd", null)]
    public string? Method { get; set; }

    /// <summary>Optimizer steps, 1–100000; null: the drift policy's.</summary>
    [Description("Optimizer steps; the device's drift policy adaptSteps when absent.")]
    [Range(1, 100_000)]
    public int? Steps { get; set; }

    /// <summary>The target domain's name (at least 10 samples of it must be stored).</summary>
    [Description("Target domain name; at least 10 samples of it must be stored.")]
    [Length(1, 64)]
    public string TargetDomain { get; set; } = "target";
}
