namespace EdgeTL.Agent.Resources;

/// <summary>Reads the device temperature.</summary>
public interface IThermalSensor
{
    /// <summary>
    /// Reads the hottest temperature on the device, in degrees Celsius; false when no reading
    /// is available (no sensor, unreadable files). Never throws for a failed read.
    /// </summary>
    bool TryReadMaxCelsius(out double celsius);
}
