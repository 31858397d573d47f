using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace EdgeTL.Protocol.Commands;

/// <summary>Arguments of <c>set-config</c>: the run-time settings to change (absent ones stay). Persisted across restarts.</summary>
public sealed record SetConfigArgs
{
    /// <summary>Drift policy changes.</summary>
    [Description("Drift policy changes.")]
    public DriftConfigArgs? Drift { get; set; }

    /// <summary>Labelled samples per class before cold start fits the first head.</summary>
    [Description("Labelled samples per class before cold start fits the first head.")]
    [Range(1, 10_000)]
    public int? ColdStartShots { get; set; }

    /// <summary>The device's class names (at least 2, distinct), replacing the package's labels.</summary>
    [Description("The device's class names (at least 2, distinct); replaces the package's labels.")]
    [MinLength(2)]
    public IReadOnlyList<string>? Classes { get; set; }

    /// <summary>Training waits while the hottest thermal zone is above this (°C).</summary>
    [Description("Training waits while the hottest thermal zone is above this, degrees Celsius.")]
    [Range(1.0, 150.0)]
    public double? MaxTemperatureC { get; set; }

    /// <summary>Training waits while the 1-minute load average per core is above this.</summary>
    [Description("Training waits while the 1-minute load average per core is above this.")]
    [Range(0.01, 1000.0)]
    public double? MaxLoadPerCore { get; set; }
}
