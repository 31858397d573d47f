using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace EdgeTL.Protocol.Commands;

/// <summary>Arguments of <c>adapt</c> (a job): adapt the serving model from the labelled source samples to a target domain.</summary>
public sealed record AdaptArgs
{
    /// <summary><c>dann</c> or <c>mmd</c> (align the head's features), <c>bn</c> or <c>tent</c> (re-normalize the backbone, label-free), <c>auto</c> (chosen by where the shift is); null: the drift policy's method.</summary>
    [Description("'dann' (gradient reversal) or 'mmd' align the head's features; 'bn' (AdaBN: BatchNorm statistics re-estimated on the target) or 'tent' (plus entropy minimization on the BatchNorm scales and shifts) adapt the backbone without labels. 'auto' localizes the shift in the backbone first: bn for an input-level shift, the drift policy's head method (dann or mmd) for a semantic one. The device's drift policy method when absent.")]
    [AllowedValues("dann", "mmd", "bn", "tent", "auto", null)]
    public string? Method { get; set; }

    /// <summary>Optimizer steps, 1–100000; null: the drift policy's (dann, mmd) or 20 (tent); bn takes none.</summary>
    [Description("Optimizer steps; the device's drift policy adaptSteps when absent (dann, mmd), 20 for tent; bn ignores it.")]
    [Range(1, 100_000)]
    public int? Steps { get; set; }

    /// <summary>The target domain's name (at least 10 samples of it must be stored).</summary>
    [Description("Target domain name; at least 10 samples of it must be stored.")]
    [Length(1, 64)]
    public string TargetDomain { get; set; } = "target";
}
