using System.Globalization;

namespace EdgeTL.Agent.Resources;

/// <summary>Limits above which the <see cref="ResourceGate"/> defers training.</summary>
public sealed record ResourceGateOptions
{
    /// <summary>Hottest thermal zone allowed, in °C (80 by default; Jetson throttles from about 97).</summary>
    public double MaxTemperatureC { get; init; } = 80;

    /// <summary>1-minute load average per core allowed (0.9 by default).</summary>
    public double MaxLoadPerCore { get; init; } = 0.9;

    /// <summary>Power draw allowed, in watts; null (the default) sets no limit.</summary>
    public double? MaxPowerWatts { get; init; }

    /// <summary>Checks every limit is a positive finite number.</summary>
    /// <exception cref="AgentException"><see cref="AgentErrorCode.InvalidConfiguration"/> naming the bad limit.</exception>
    public void Validate()
    {
        if (!double.IsFinite(MaxTemperatureC) || MaxTemperatureC <= 0)
            throw Invalid(nameof(MaxTemperatureC), MaxTemperatureC);
        if (!double.IsFinite(MaxLoadPerCore) || MaxLoadPerCore <= 0)
            throw Invalid(nameof(MaxLoadPerCore), MaxLoadPerCore);
        if (MaxPowerWatts is double watts && (!double.IsFinite(watts) || watts <= 0))
            throw Invalid(nameof(MaxPowerWatts), watts);
    }

    private static AgentException Invalid(string name, double value) =>
        new(AgentErrorCode.InvalidConfiguration,
            string.Create(CultureInfo.InvariantCulture, $"ResourceGate:{name} must be a positive finite number, got {value}."));
}
