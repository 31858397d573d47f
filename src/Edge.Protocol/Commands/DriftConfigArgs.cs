using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace EdgeTL.Protocol.Commands;

/// <summary>The drift part of <c>set-config</c> (absent fields stay).</summary>
public sealed record DriftConfigArgs
{
    /// <summary>Watch served features for drift.</summary>
    [Description("Watch served features for drift.")]
    public bool? Enabled { get; set; }

    /// <summary>Predictions per drift test window.</summary>
    [Description("Predictions per drift test window.")]
    [Range(10, 100_000)]
    public int? WindowSize { get; set; }

    /// <summary>Significance of the MMD permutation test, in (0, 1).</summary>
    [Description("Significance of the MMD permutation test.")]
    [Range(1e-9, 0.999999)]
    public double? Alpha { get; set; }

    /// <summary>Adapt by itself when drift is detected.</summary>
    [Description("Start an adaptation job by itself when drift is detected.")]
    public bool? AutoAdapt { get; set; }

    /// <summary>The method of an automatic adaptation: <c>dann</c>, <c>mmd</c>, <c>bn</c>, <c>tent</c> or <c>auto</c> (as <c>adapt</c> takes them).</summary>
    [Description("Method of an automatic adaptation, as adapt takes it: dann, mmd, bn, tent or auto.")]
    [AllowedValues("dann", "mmd", "bn", "tent", "auto", null)]
    public string? Method { get; set; }

    /// <summary>Optimizer steps of an automatic adaptation.</summary>
    [Description("Optimizer steps of an automatic adaptation.")]
    [Range(1, 100_000)]
    public int? AdaptSteps { get; set; }
}
