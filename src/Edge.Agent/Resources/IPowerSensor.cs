namespace EdgeTL.Agent.Resources;

/// <summary>Reads the power the device draws.</summary>
public interface IPowerSensor
{
    /// <summary>
    /// Reads the power drawn now, in watts; false when no reading is available.
    /// Never throws for a failed read.
    /// </summary>
    bool TryReadWatts(out double watts);
}
